# Reference dose-response figures from rms 6.5 (cph, anova, contrast) and survival (quintiles).
# Run from the repository root: Rscript tests/reference/doseresponse.R -> doseresponse.json
# flchain: rows with creatinine and futime > 0 (time futime in days, event death, sex 1 = male); rotterdam: all.
suppressMessages({library(rms); library(survival)})
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)
fl <- read.csv("tests/reference/data/flchain.csv")
fl <- fl[!is.na(fl$creatinine) & fl$futime > 0, ]  # mgrisk rejects zero follow-up (3 deaths at day 0)
rt <- read.csv("tests/reference/data/rotterdam.csv")

anova_rows <- function(fit) {
  a <- anova(fit)
  list(rows = rownames(a), chi2 = A(a[, "Chi-Square"]), df = A(a[, "d.f."]), p = A(a[, "P"]))
}
quintiles <- function(d, x, S, adjust) {
  q <- quantile(d[[x]], seq(0, 1, 0.2), type = 7)
  cat <- cut(d[[x]], q, include.lowest = TRUE)
  cat <- relevel(cat, ref = levels(cat)[3])
  d$cat <- cat
  f <- coxph(as.formula(paste("S ~ cat +", adjust)), data = d,
             control = coxph.control(eps = 1e-12, iter.max = 100))
  b <- coef(f)[1:4]; se <- sqrt(diag(f$var))[1:4]
  med <- tapply(d[[x]], cat, median)
  d$score <- med[as.character(cat)]
  ft <- coxph(as.formula(paste("S ~ score +", adjust)), data = d,
              control = coxph.control(eps = 1e-12, iter.max = 100))
  list(breaks = A(q), levels = levels(cat), hr = A(exp(b)), lower = A(exp(b - qnorm(0.975) * se)),
       upper = A(exp(b + qnorm(0.975) * se)), n = A(table(cut(d[[x]], q, include.lowest = TRUE))),
       p_trend = summary(ft)$coefficients[1, 5])
}
model <- function(name, fit, x, grid, d, S, adjust, extra = list()) {
  ref <- median(d[[x]])
  args <- list(fit, setNames(list(grid), x), setNames(list(ref), x))
  con <- do.call(contrast, args)
  lin <- cph(as.formula(paste("S ~", x, "+", adjust)), data = d, eps = 1e-12)
  c(list(name = name, exposure = x, knots = A(fit$Design$parms[[x]]), coef = A(coef(fit)),
         names = names(coef(fit)), var = unclass(vcov(fit)), loglik = A(fit$loglik),
         anova = anova_rows(fit), reference = ref, grid = A(grid),
         contrast = A(con$Contrast), contrast_se = A(con$SE),
         lr_nonlinear = A(c(2 * (fit$loglik[2] - lin$loglik[2]), length(fit$Design$parms[[x]]) - 2)),
         quintiles = quintiles(d, x, S, adjust)), extra)
}
cases <- list()
S <- Surv(fl$futime, fl$death)
dd <- datadist(fl); options(datadist = "dd")
f1 <- cph(S ~ rcs(creatinine, 4) + age + sex, data = fl, x = TRUE, y = TRUE, eps = 1e-12)
ic <- lapply(3:6, function(k) {
  f <- cph(as.formula(sprintf("S ~ rcs(creatinine, %d) + age + sex", k)), data = fl, eps = 1e-12)
  c(k, AIC(f), BIC(f), nobs(f), f$loglik[2])
})
cases[[1]] <- model("flchain creatinine 4 knots", f1, "creatinine", seq(0.6, 2.5, length.out = 25),
                    fl, S, "age + sex",
                    list(knots_ic = lapply(ic, A), data = "flchain", time = "futime", event = "death",
                         adjust = "age + sex"))
f2 <- cph(S ~ rcs(kappa, 5) + age + sex, data = fl, x = TRUE, y = TRUE, eps = 1e-12)
cases[[2]] <- model("flchain kappa 5 knots", f2, "kappa", seq(0.4, 3.5, length.out = 25), fl, S,
                    "age + sex", list(data = "flchain", time = "futime", event = "death",
                                      adjust = "age + sex"))
ag <- fl[fl$futime > 0, ]
ag$exit <- ag$age + ag$futime / 365.25
Sa <- Surv(ag$age, ag$exit, ag$death)
dd <- datadist(ag); options(datadist = "dd")
f3 <- cph(Sa ~ rcs(creatinine, 4) + sex, data = ag, x = TRUE, y = TRUE, eps = 1e-12)
cases[[3]] <- model("flchain age scale", f3, "creatinine", seq(0.6, 2.5, length.out = 25), ag, Sa,
                    "sex", list(data = "flchain", entry = "age", time = "exit", event = "death",
                                adjust = "sex"))
Sr <- Surv(rt$rtime, rt$recur)
dd <- datadist(rt); options(datadist = "dd")
f4 <- cph(Sr ~ rcs(age, 5) + rcs(pgr, 4) + nodes, data = rt, x = TRUE, y = TRUE, eps = 1e-12)
cases[[4]] <- model("rotterdam age and pgr", f4, "age", seq(30, 85, length.out = 25), rt, Sr,
                    "rcs(pgr, 4) + nodes", list(data = "rotterdam", time = "rtime", event = "recur",
                                                adjust = "rcs(pgr, 4) + nodes"))
dd <- datadist(fl); options(datadist = "dd")
f5 <- cph(S ~ rcs(creatinine, 4) * sex + age, data = fl, x = TRUE, y = TRUE, eps = 1e-12)
by_sex <- list(name = "flchain creatinine by sex", anova = anova_rows(f5))
write_json_exact(list(rms_version = as.character(packageVersion("rms")), cases = cases,
                      by_sex = by_sex), "tests/reference/doseresponse.json")
