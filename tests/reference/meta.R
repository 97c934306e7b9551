# Reference dose-response meta-analyses from R dosresmeta 2.2.0 (mixmeta 1.2.1).
# Run from the repository root: Rscript tests/reference/meta.R -> meta.json
# and tests/reference/data/meta_<name>.csv (the data sets dosresmeta ships, columns renamed to
# id, type, dose, cases, n, logrr, se; se empty on reference rows).
#
# Tolerances are tightened so that the reference is the optimum, not where an optimizer stopped:
# grl() iterates until the squared change of the fitted cases is < 1e-18 (default 1e-5), and the
# (RE)ML optimizers use reltol 1e-14 (default 1.5e-8). The fits are otherwise dosresmeta's.
suppressMessages({library(dosresmeta); library(rms)})
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)

grl_tight <- dosresmeta::grl
formals(grl_tight)$tol <- 1e-18
environment(grl_tight) <- asNamespace("dosresmeta")
utils::assignInNamespace("grl", grl_tight, "dosresmeta")

load_set <- function(name) {
  e <- new.env(); data(list = name, package = "dosresmeta", envir = e); d <- get(name, e)
  if (!"cases" %in% names(d)) d$cases <- d$case
  if (!"n" %in% names(d)) d$n <- d$peryears
  d <- data.frame(id = as.integer(factor(d$id, levels = unique(d$id))), type = as.character(d$type),
                  dose = d$dose, cases = d$cases, n = d$n, logrr = d$logrr, se = d$se)
  d$se[d$logrr == 0] <- NA
  write.csv(d, sprintf("tests/reference/data/meta_%s.csv", name), row.names = FALSE, na = "")
  d
}

ctrl <- list(reltol = 1e-14, maxiter = 20000)

fit_case <- function(name, d, shape, proc, method, grid) {
  knots <- attr(rms::rcs(d$dose, 3), "parms")
  d$knots_ <- NULL
  f <- if (shape == "linear") logrr ~ dose else logrr ~ rms::rcs(dose, knots)
  fit <- dosresmeta(formula = f, id = id, type = type, cases = cases, n = n, se = se, data = d,
                    proc = proc, method = method, control = ctrl)
  nd <- data.frame(dose = grid)
  p <- predict(fit, newdata = nd, xref_pos = 1, se.incl = TRUE)
  out <- list(data = name, shape = shape, stage = if (proc == "1stage") 1 else 2, method = method,
              knots = A(knots), coef = A(coef(fit)), cov = unclass(vcov(fit)),
              psi = if (method == "fixed") NULL else unclass(as.matrix(fit$Psi)),
              grid = A(grid), ref = grid[1], log_rr = A(p$pred), se = A(p$se))
  if (proc == "2stage") {
    q <- dosresmeta:::qtest.dosresmeta(fit)
    out$Q <- q$Q[[1]]; out$Q_df <- q$df[[1]]
    out$study_coef <- unclass(fit$bi)
    out$loglik <- as.numeric(logLik(fit))
  } else {
    out$loglik <- fit$logLik
  }
  out
}

sets <- c("alcohol_cvd", "coffee_mort", "milk_ov", "alcohol_crc")
cases <- list(); counts <- list()
for (name in sets) {
  d <- load_set(name)
  grid <- c(0, seq(0, max(d$dose), length.out = 13)[-1])
  for (shape in c("linear", "spline")) {
    for (pm in list(c("2stage", "reml"), c("2stage", "ml"), c("2stage", "fixed"), c("1stage", "reml"))) {
      ok <- tryCatch({
        cases[[length(cases) + 1]] <- fit_case(name, d, shape, pm[1], pm[2], grid); TRUE
      }, error = function(e) {message(name, " ", shape, " ", pm, ": ", conditionMessage(e)); FALSE})
    }
  }
  # Per study: GL fitted counts and covariance, and (case-control studies) Hamling's
  for (j in unique(d$id)) {
    s <- d[d$id == j, ]
    v <- s$se^2; v[is.na(v)] <- 0
    ps <- dosresmeta:::grl(s$logrr, v, s$cases, s$n, s$type)
    S <- covar.logrr(s$cases, s$n, s$logrr, v, s$type)
    entry <- list(data = name, id = j, type = s$type[1], gl_cases = A(ps[, "A"]), gl_cov = unclass(S))
    if (s$type[1] == "cc") {
      ph <- hamling(s$logrr, v, s$cases, s$n, s$type)
      entry$hamling_cases <- A(ph[, "A"]); entry$hamling_n <- A(ph[, "N"])
      entry$hamling_cov <- unclass(covar.logrr(s$cases, s$n, s$logrr, v, s$type, covariance = "h"))
    }
    counts[[length(counts) + 1]] <- entry
  }
}
write_json_exact(list(versions = list(dosresmeta = as.character(packageVersion("dosresmeta")),
                                      mixmeta = as.character(packageVersion("mixmeta"))),
                      fits = cases, studies = counts), "tests/reference/meta.json")
