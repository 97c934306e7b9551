# Reference model checks from R survival 3.x: cox.zph (score tests, scaled Schoenfeld residuals),
# concordance, dfbeta, and tt() models (spline x log(time)).
# Run from the repository root: Rscript tests/reference/checks.R -> tests/reference/checks.json
# flchain: rows with creatinine and futime > 0; age scale: entry age, exit age + futime / 365.25.
# rotterdam: all rows; case weights w = 0.5 + (pid %% 4) / 4, strata meno.
suppressMessages({library(rms); library(survival)})
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 100)

fl <- read.csv("tests/reference/data/flchain.csv")
fl <- fl[!is.na(fl$creatinine) & fl$futime > 0, ]
fl$exit <- fl$age + fl$futime / 365.25
rt <- read.csv("tests/reference/data/rotterdam.csv")
rt$w <- 0.5 + (rt$pid %% 4) / 4

zph_tables <- function(fit) {
  out <- list()
  for (tr in c("km", "identity", "rank", "log")) for (terms in c(TRUE, FALSE)) {
    z <- cox.zph(fit, transform = tr, terms = terms)
    out[[paste(tr, if (terms) "terms" else "columns", sep = "_")]] <-
      list(rows = rownames(z$table), chi2 = A(z$table[, "chisq"]), df = A(z$table[, "df"]),
           p = A(z$table[, "p"]))
  }
  out
}
scaled <- function(fit, terms) {
  z <- cox.zph(fit, transform = "km", terms = terms)
  list(time = A(z$time), x = A(z$x), y = unname(unclass(z$y)))
}
tt_model <- function(d, S, x, knots, adjust, strata = NULL, weights = NULL) {
  B <- unclass(rcs(d[[x]], knots))
  for (j in 1:ncol(B)) d[[paste0("B", j)]] <- B[, j]
  bs <- paste0("B", 1:ncol(B))
  rhs <- paste(c(bs, adjust, paste0("tt(", bs, ")"), strata), collapse = " + ")
  d$wt <- if (is.null(weights)) 1 else d[[weights]]
  f <- coxph(as.formula(paste("S ~", rhs)), data = d, tt = function(x, t, ...) x * log(t),
             weights = wt, control = ctl)
  nb <- ncol(B); ni <- (length(coef(f)) - nb + 1):length(coef(f))
  V <- if (is.null(f$naive.var)) vcov(f) else f$naive.var  # model-based (R is robust with
  b <- coef(f)[ni]; Vi <- V[ni, ni]                          # non-integer weights)
  list(coef = A(coef(f)), names = names(coef(f)), var = unclass(V), loglik = A(f$loglik),
       wald_interaction = drop(b %*% solve(Vi, b)))
}
case <- function(name, fit, d, S, x, knots, adjust, extra, strata = NULL, weights = NULL) {
  dfb <- residuals(fit, type = "dfbeta")
  keep <- seq(1, nrow(dfb), by = 37)
  con <- concordance(fit)
  c(list(name = name, exposure = x, knots = A(knots), coef = A(coef(fit)),
         zph = zph_tables(fit), scaled_terms = scaled(fit, TRUE), scaled_columns = scaled(fit, FALSE),
         concordance = con$concordance, concordance_var = con$var,
         dfbeta_rows = A(keep), dfbeta = unname(dfb[keep, , drop = FALSE]),
         dfbeta_sumsq = A(colSums(dfb^2)),
         tt = tt_model(d, S, x, knots, adjust, strata, weights)), extra)
}

cases <- list()
# 1. flchain, right-censored (days), Efron
k1 <- rcspline.eval(fl$creatinine, nk = 4, knots.only = TRUE)
S1 <- Surv(fl$futime, fl$death)
f1 <- coxph(S1 ~ rcs(creatinine, k1) + age + sex, data = fl, control = ctl)
cases[[1]] <- case("flchain days", f1, fl, S1, "creatinine", k1, c("age", "sex"),
                   list(data = "flchain", time = "futime", event = "death", adjust = "age + sex"))
# 2. flchain on the age scale with delayed entry
S2 <- Surv(fl$age, fl$exit, fl$death)
f2 <- coxph(S2 ~ rcs(creatinine, k1) + sex, data = fl, control = ctl)
cases[[2]] <- case("flchain age scale", f2, fl, S2, "creatinine", k1, "sex",
                   list(data = "flchain", entry = "age", time = "exit", event = "death",
                        adjust = "sex"))
# 3. rotterdam, strata and case weights
k3 <- rcspline.eval(rt$pgr, nk = 4, knots.only = TRUE)
S3 <- Surv(rt$rtime, rt$recur)
f3 <- coxph(S3 ~ rcs(pgr, k3) + age + nodes + strata(meno), data = rt, weights = w,
            control = ctl)
cases[[3]] <- case("rotterdam strata weights", f3, rt, S3, "pgr", k3, c("age", "nodes"),
                   list(data = "rotterdam", time = "rtime", event = "recur",
                        adjust = "age + nodes", strata = "meno", weights = "w"),
                   strata = "strata(meno)", weights = "w")
# 4. flchain age scale, Breslow ties, strata sex (counting process + strata)
f4 <- coxph(S2 ~ rcs(creatinine, k1) + kappa + strata(sex), data = fl, ties = "breslow",
            control = ctl)
z4 <- zph_tables(f4)
cases[[4]] <- list(name = "flchain age scale breslow strata", exposure = "creatinine",
                   knots = A(k1), coef = A(coef(f4)), zph = z4,
                   concordance = concordance(f4)$concordance,
                   concordance_var = concordance(f4)$var,
                   data = "flchain", entry = "age", time = "exit", event = "death",
                   adjust = "kappa", strata = "sex", ties = "breslow")
write_json_exact(list(survival_version = as.character(packageVersion("survival")),
                      cases = cases), "tests/reference/checks.json")
