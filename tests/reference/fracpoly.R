# Fractional polynomial Cox fits of given powers from R survival (coxph on the transformed
# columns; the FP design is written out here independently of mgrisk). Run from the repository
# root: Rscript tests/reference/fracpoly.R -> tests/reference/fracpoly.json
# flchain: rows with creatinine and futime > 0; creatinine (mg/dL) scaled by 10^floor(log10(max)).
suppressMessages(library(survival))
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)
fl <- read.csv("tests/reference/data/flchain.csv")
fl <- fl[!is.na(fl$creatinine) & fl$futime > 0, ]
scale <- 10^floor(log10(max(fl$creatinine)))
z <- fl$creatinine / scale
pw <- function(z, p) if (p == 0) log(z) else z^p
fp <- function(powers) {
  X <- cbind(pw(z, powers[1]))
  if (length(powers) == 2) X <- cbind(X, pw(z, powers[2]) * (if (powers[1] == powers[2]) log(z) else 1))
  fit <- coxph(Surv(fl$futime, fl$death) ~ X + fl$age + fl$sex, control = coxph.control(eps = 1e-12, iter.max = 100))
  list(powers = A(powers), coef = A(coef(fit)), var = unclass(vcov(fit)), loglik = A(fit$loglik))
}
null <- coxph(Surv(futime, death) ~ age + sex, data = fl, control = coxph.control(eps = 1e-12))
out <- list(scale = scale, fits = list(fp(-2), fp(c(0, 0.5)), fp(c(0.5, 0.5)), fp(c(-1, 3))),
            null_loglik = null$loglik[2])
write_json_exact(out, "tests/reference/fracpoly.json")
