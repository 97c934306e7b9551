# Fine-Gray reference figures for mgrisk.competing.fit_fine_gray without data expansion: R
# survival's finegray() + coxph(weights = fgwt, cluster = id) on the expanded rows. Run from the
# repository root:
#   Rscript tests/reference/finegray.R  ->  tests/reference/finegray.json
#
# Data:
#   flchain   tests/reference/data/flchain.csv (export_data.R), rows with creatinine and
#             futime > 0; causes 1 = circulatory death, 2 = other death, 0 = alive; age as
#             the time scale (entry age, exit age + futime / 365.25: near-ties that timefix
#             merges), strata by sex, creatinine as rcspline.eval with 4 knots (knots stored).
#   sim       600 people generated here (seed 20250917, written into the JSON): x1 normal,
#             x2 binary, three strata, entry ages on a 0.5-year grid, follow-up on a 0.1-year
#             grid (many ties between events of interest, competing events, censorings and
#             entries), case weights on a 0.01 grid.
# Cases (each: coef, robust and model-based covariance, loglik, size and weight sum of the
# expanded data), Efron and Breslow ties:
#   sim_right           right-censored follow-up times
#   sim_delayed         (entry, exit] ages: censoring and entry weights (Geskus)
#   sim_strata_weights  (entry, exit] ages, strata, case weights (multiplied into fgwt by
#                       hand: see the note at the case)
#   sim_right_strata_weights  follow-up times, strata, case weights
#   flchain_age_strata  flchain on the age scale, strata by sex, Efron only
suppressMessages({ library(survival); library(Hmisc) })
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)
ctl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-14)

fit_case <- function(fg, cols, ties, strata = FALSE) {
  X <- as.matrix(fg[, cols])
  f <- if (strata) {
    coxph(Surv(fgstart, fgstop, fgstatus) ~ X + strata(grp), weights = fgwt, cluster = pid,
          data = fg, ties = ties, control = ctl)
  } else {
    coxph(Surv(fgstart, fgstop, fgstatus) ~ X, weights = fgwt, cluster = pid, data = fg,
          ties = ties, control = ctl)
  }
  list(ties = ties, coef = A(coef(f)), var = unname(f$var), naive_var = unname(f$naive.var),
       robust_se = A(sqrt(diag(f$var))), naive_se = A(sqrt(diag(f$naive.var))),
       loglik = A(f$loglik), nrow = nrow(fg), sum_wt = sum(fg$fgwt))
}

# --- simulated data ---------------------------------------------------------------------------
set.seed(20250917)
n <- 600
x1 <- rnorm(n)
x2 <- rbinom(n, 1, 0.4)
grp <- sample(1:3, n, replace = TRUE)
entry <- round(runif(n, 50, 70) * 2) / 2
h1 <- 0.04 * exp(0.5 * x1 - 0.3 * x2)
h2 <- 0.06 * exp(-0.2 * x1 + 0.4 * x2)
t <- rexp(n, h1 + h2)
cause <- ifelse(runif(n) < h1 / (h1 + h2), 1L, 2L)
cens <- rexp(n, 0.05)
fu <- pmax(round(pmin(t, cens, 15) * 10) / 10, 0.1)
status <- ifelse(t <= pmin(cens, 15), cause, 0L)
wt <- round(runif(n, 0.5, 2), 2)
sim <- data.frame(id = seq_len(n), pid = seq_len(n), x1 = x1, x2 = x2, grp = grp, grp2 = grp,
                  entry = entry, fu = fu, exit = entry + fu, status = status, wt = wt)
sim$fstat <- factor(sim$status, 0:2, c("censor", "ev", "other"))
out <- list(survival = as.character(packageVersion("survival")),
            sim = list(seed = 20250917, x1 = A(sim$x1), x2 = A(sim$x2), grp = A(sim$grp),
                       entry = A(sim$entry), fu = A(sim$fu), exit = A(sim$exit),
                       status = A(sim$status), wt = A(sim$wt)))
cols <- c("x1", "x2")
both <- function(fg, strata = FALSE) lapply(c("efron", "breslow"), function(ties)
  fit_case(fg, cols, ties, strata))

fg <- finegray(Surv(fu, fstat) ~ x1 + x2 + pid, data = sim, etype = "ev")
out$sim_right <- both(fg)
fg <- finegray(Surv(entry, exit, fstat) ~ x1 + x2 + pid, data = sim, etype = "ev", id = id)
out$sim_delayed <- both(fg)
# Case weights are multiplied in after the expansion: finegray(weights =) in survival 3.5.3
# indexes the weights by the row within the stratum (user.weights[split$row]), so with strata
# the weights go to the wrong people. Without strata the two agree (checked here).
weigh <- function(fg) { fg$fgwt <- fg$fgwt * fg$wt; fg }
fg <- finegray(Surv(entry, exit, fstat) ~ x1 + x2 + pid + wt + grp + strata(grp2), data = sim,
               etype = "ev", id = id)
out$sim_strata_weights <- both(weigh(fg), strata = TRUE)
fg <- finegray(Surv(fu, fstat) ~ x1 + x2 + pid + wt + grp + strata(grp2), data = sim,
               etype = "ev")
out$sim_right_strata_weights <- both(weigh(fg), strata = TRUE)
fgw <- finegray(Surv(fu, fstat) ~ x1 + x2 + pid + wt, data = sim, etype = "ev", weights = wt)
stopifnot(isTRUE(all.equal(fgw$fgwt, weigh(finegray(Surv(fu, fstat) ~ x1 + x2 + pid + wt,
                                                        data = sim, etype = "ev"))$fgwt,
                           tolerance = 1e-15)))

# --- flchain, age as the time scale, strata by sex --------------------------------------------
fl <- read.csv("tests/reference/data/flchain.csv")
fl <- fl[!is.na(fl$creatinine) & fl$futime > 0, ]
fl$id <- fl$pid <- seq_len(nrow(fl))
fl$status <- ifelse(fl$death == 0, 0L, ifelse(fl$chapter == "Circulatory", 1L, 2L))
b <- rcspline.eval(fl$creatinine, nk = 4, inclx = TRUE)
fl$c1 <- b[, 1]; fl$c2 <- b[, 2]; fl$c3 <- b[, 3]
fl$exit <- fl$age + fl$futime / 365.25
fl$grp <- fl$sex; fl$grp2 <- fl$sex
fl$fstat <- factor(fl$status, 0:2, c("censor", "circ", "other"))
fg <- finegray(Surv(age, exit, fstat) ~ c1 + c2 + c3 + pid + grp + strata(grp2), data = fl,
               etype = "circ", id = id)
out$flchain_age_strata <- list(knots = A(attr(b, "knots")), n = nrow(fl),
                               fit = fit_case(fg, c("c1", "c2", "c3"), "efron", TRUE))

write_json_exact(out, "tests/reference/finegray.json")
