# Reference knots and bases from Hmisc::rcspline.eval, exactly as rms::rcs calls it
# (fractied = 0.05, inclx = TRUE, norm = 2), for every branch of the knot algorithm.
# Run from the repository root: Rscript tests/reference/splines.R  ->  splines.json
suppressMessages(library(Hmisc))
source("tests/reference/json_exact.R")
fl <- read.csv("tests/reference/data/flchain.csv")
rt <- read.csv("tests/reference/data/rotterdam.csv")
set.seed(20170516)

cases <- list()
add <- function(name, x, nk = NULL, knots = NULL, branch) {
  warn <- character(0)
  res <- withCallingHandlers(
    tryCatch(rcspline.eval(x, knots = knots, nk = if (is.null(nk)) 5 else nk,
                           knots.only = TRUE, fractied = 0.05),
             error = function(e) structure(conditionMessage(e), class = "err")),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
  case <- list(name = name, branch = branch, x = structure(x, keep_array = TRUE), nk = nk,
               knots_given = if (is.null(knots)) NULL else structure(knots, keep_array = TRUE),
               warnings = warn, error = inherits(res, "err"))
  if (!case$error) {
    case$knots <- structure(as.numeric(res), keep_array = TRUE)
    xb <- x[!is.na(x)]
    xb <- xb[round(seq(1, length(xb), length.out = min(300, length(xb))))]
    xb <- c(xb, NA)
    case$basis_x <- structure(xb, keep_array = TRUE)
    case$basis <- unclass(rcspline.eval(xb, knots = case$knots, inclx = TRUE))
    attr(case$basis, "knots") <- NULL
  }
  cases[[length(cases) + 1]] <<- case
}

for (k in 3:7) add(sprintf("flchain creatinine %d knots", k), fl$creatinine, k, branch = "default quantiles, NA ignored")
for (k in c(4, 5)) add(sprintf("flchain kappa %d knots", k), fl$kappa, k, branch = "default quantiles")
add("flchain lambda 6 knots", fl$lambda, 6, branch = "default quantiles")
for (k in 3:5) add(sprintf("rotterdam pgr %d knots", k), rt$pgr, k, branch = "ties at the low end (first knot rule)")
add("rotterdam nodes 4 knots", rt$nodes, 4, branch = "ties at the low end")
hi <- c(rnorm(400, 10, 2), rep(15, 60))
add("ties at the high end", hi, 4, branch = "ties at the high end (last knot rule)")
both <- c(rep(0, 50), runif(400, 1, 9), rep(10, 50))
add("ties at both ends", both, 5, branch = "ties at both ends")
add("ties at both ends 3 knots", both, 3, branch = "ties at both ends, nke = 1 (median)")
add("ties at both ends 4 knots", both, 4, branch = "ties at both ends, nke = 2")
small <- round(rnorm(60, 0.84, 0.065), 3)
for (k in 3:5) add(sprintf("n < 100, %d knots", k), small, k, branch = "n < 100: outer knots 5th smallest/largest")
add("few unique values", c(1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 2, 3), 4, branch = "nxu - 2 <= nk: interior unique values")
add("few unique values 6", rep(1:6, 5), 4, branch = "nxu - 2 <= nk")
spike <- c(rep(5, 900), seq(0, 10, length.out = 100))
add("spike in the middle", spike, 5, branch = "default quantiles giving 3 unique knots")
add("spike low", c(seq(0, 1, length.out = 5), rep(5, 60), seq(6, 10, length.out = 35)), 3,
    branch = "alternate algorithm (2 nke quantiles), with its warning")
add("spike low, n < 100", c(seq(0, 1, length.out = 5), rep(5, 57), seq(6, 10, length.out = 33)), 3,
    branch = "alternate algorithm with n < 100 (outer knot overrides index nke of 2 nke)")
add("spike low, 4 knots", c(seq(0, 1, length.out = 5), rep(5, 60), seq(6, 10, length.out = 35)), 4,
    branch = "alternate algorithm, 4 knots")
add("spike with low ties", c(rep(0, 10), rep(5, 60), seq(6, 10, length.out = 30)), 4,
    branch = "tie rule is skipped when an interior value holds >= 5 %")
add("too few non-missing", c(1, 2, 3, NA, 5), 4, branch = "error: < 6 non-missing")
add("constant", rep(3, 20), 4, branch = "error: fewer than 3 unique knots")
add("explicit knots", fl$creatinine, NULL, knots = c(0.7, 0.9, 1.1, 1.5), branch = "explicit knots")

restate <- list()
for (kn in list(c(0.74, 0.81, 0.86, 0.94), c(1, 2, 4, 8, 16), c(0.5, 0.9, 1.3))) {
  coef <- round(rnorm(length(kn) - 1, 0, 3), 3)
  r <- rcspline.restate(kn, coef)
  restate[[length(restate) + 1]] <- list(knots = structure(kn, keep_array = TRUE),
                                         coef = structure(coef, keep_array = TRUE),
                                         restated = structure(as.numeric(r), keep_array = TRUE))
}
write_json_exact(list(hmisc_version = as.character(packageVersion("Hmisc")), cases = cases,
                      restate = restate), "tests/reference/splines.json")
