# Rubin's rules and D1 from R mice 3.15 (pool, D1 via mitml) on completed data sets written by
# Python (tests/reference/impute_data.py). Run from the repository root:
#   Rscript tests/reference/impute.R -> tests/reference/impute.json
# Model: coxph(Surv(entry, exit, event == 1) ~ rcs(mg, 4 knots) + female + egfr), Efron ties;
# knots from the m data sets stacked (Hmisc's rcspline.eval, the rms default placement).
suppressMessages({library(survival); library(Hmisc); library(mice); library(rms)})
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)
long <- read.csv("tests/reference/data/impute_completed.csv", check.names = FALSE)
m <- max(long$.imp)
knots <- rcspline.eval(long$mg, nk = 4, knots.only = TRUE)
design <- function(d) {
  B <- rcspline.eval(d$mg, knots = knots, inclx = TRUE)
  data.frame(entry = d$entry, exit = d$exit, ev = as.integer(d$event == 1),
             s1 = B[, 1], s2 = B[, 2], s3 = B[, 3], female = d$female, egfr = d$egfr)
}
ctl <- coxph.control(eps = 1e-12, iter.max = 100)
sets <- lapply(seq_len(m), function(i) design(long[long$.imp == i, ]))
fit_all <- lapply(sets, function(d) coxph(Surv(entry, exit, ev) ~ s1 + s2 + s3 + female + egfr, data = d, control = ctl))
fit_lin <- lapply(sets, function(d) coxph(Surv(entry, exit, ev) ~ s1 + female + egfr, data = d, control = ctl))
fit_none <- lapply(sets, function(d) coxph(Surv(entry, exit, ev) ~ female + egfr, data = d, control = ctl))
p <- summary(pool(as.mira(fit_all)), conf.int = TRUE)
pp <- pool(as.mira(fit_all))$pooled
# the full total covariance T = Ubar + (1 + 1/m) B (mice reports its diagonal)
Q <- t(sapply(fit_all, coef))
Ubar <- Reduce(`+`, lapply(fit_all, vcov)) / m
Tfull <- Ubar + (1 + 1 / m) * cov(Q)
d1 <- function(f1, f0) { r <- D1(as.mira(f1), as.mira(f0))$result
  list(f = r[1, 1], df1 = r[1, 2], df2 = r[1, 3], p = r[1, 4], riv = r[1, 5]) }
# rms::fit.mult.impute: Wald tests (anova) with the total variance
orig <- long[long$.imp == 1, names(long) != ".imp"]
for (v in c("mg", "egfr")) {
  vary <- apply(sapply(seq_len(m), function(i) long[long$.imp == i, v]), 1, function(r) length(unique(r)) > 1)
  orig[vary, v] <- NA
}
mids <- as.mids(rbind(cbind(.imp = 0, .id = seq_len(nrow(orig)), orig),
                      cbind(.id = rep(seq_len(nrow(orig)), m), long)[, c(".imp", ".id", names(orig))]))
kn <- as.numeric(knots)
dd <- datadist(orig); options(datadist = "dd")
S <- Surv(orig$entry, orig$exit, orig$event == 1)
fmi <- fit.mult.impute(Surv(entry, exit, event == 1) ~ rcs(mg, kn) + female + egfr, cph, mids,
                       data = orig, pr = FALSE, fit.reps = FALSE, eps = 1e-12)
a <- anova(fmi)
out <- list(
  m = m, knots = A(knots), names = names(coef(fit_all[[1]])),
  estimate = A(pp$estimate), ubar = A(pp$ubar), b = A(pp$b), t = A(pp$t), dfcom = pp$dfcom[1],
  df = A(pp$df), riv = A(pp$riv), lambda = A(pp$lambda), fmi = A(pp$fmi),
  p = A(p$p.value), lower = A(p$`2.5 %`), upper = A(p$`97.5 %`),
  t_full = unclass(Tfull),
  d1_nonlinear = d1(fit_all, fit_lin), d1_exposure = d1(fit_all, fit_none),
  rms_coef = A(coef(fmi)), rms_var = unclass(vcov(fmi)),
  rms_anova = list(rows = rownames(a), chi2 = A(a[, "Chi-Square"]), df = A(a[, "d.f."]), p = A(a[, "P"]))
)
write_json_exact(out, "tests/reference/impute.json")
