# write_json_exact(x, path): JSON with every double written as "%.17g" (exact round trip).
# jsonlite 1.8 prints at most 15 significant digits whatever `digits` says, which loses the
# last bits of knots and coefficients; this writes numbers verbatim instead.
suppressMessages(library(jsonlite))

exact_json <- function(x) {
  num <- function(v) ifelse(is.na(v), "null", ifelse(is.infinite(v), ifelse(v > 0, "1e999", "-1e999"),
                                                     sprintf("%.17g", v)))
  if (is.list(x)) {
    parts <- vapply(x, exact_json, character(1))
    if (!is.null(names(x)) && all(names(x) != ""))
      return(paste0("{", paste0('"', names(x), '":', parts, collapse = ","), "}"))
    return(paste0("[", paste(parts, collapse = ","), "]"))
  }
  if (is.null(x)) return("null")
  if (is.matrix(x)) {
    rows <- apply(x, 1, function(r) exact_json(as.vector(r)))
    return(paste0("[", paste(rows, collapse = ","), "]"))
  }
  if (is.numeric(x) && !is.integer(x)) {
    v <- num(as.numeric(x))
    return(if (length(x) == 1 && is.null(attr(x, "keep_array"))) v else paste0("[", paste(v, collapse = ","), "]"))
  }
  txt <- toJSON(x, auto_unbox = TRUE, na = "null", null = "null")
  as.character(txt)
}

write_json_exact <- function(x, path) writeLines(exact_json(x), path)
