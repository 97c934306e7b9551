# Competing-risks reference figures for mgrisk.competing (R survival 3.5.3, riskRegression,
# cmprsk). Run from the repository root:
#   Rscript tests/reference/competing_extra.R  ->  tests/reference/competing_extra.json
#
# Data: tests/reference/data/flchain.csv (export_data.R), rows with creatinine and futime > 0.
# Causes: 1 = circulatory death (chapter "Circulatory"), 2 = any other death, 0 = alive.
# Time: days since the sample (futime); 1, 5 and 10 years are 365.25, 1826.25 and 3652.5 days.
# Design: creatinine as Hmisc::rcspline.eval with 4 knots (knots stored), age, sex (1 = male).
# Cases:
#   csc          cause-specific coxph for each cause (Efron)
#   finegray     finegray() + coxph(weights = fgwt, cluster = id), Efron and Breslow ties,
#                with the size of the expanded data and its first rows
#   crr          cmprsk::crr on the same design (Breslow-type ties, variance with the term for
#                the estimated censoring distribution)
#   aj           survfit Aalen-Johansen at 1, 5, 10 years (IJ std.err, log and log-log CIs);
#                cmprsk::cuminc by creatinine group with Gray's test
#   age_scale    age as the time scale with delayed entry: finegray (id) + coxph, and survfit
#                Aalen-Johansen at ages 70, 80, 90
#   risk         riskRegression::CSC + predictRisk at 10 years on a creatinine grid for a
#                70-year-old woman (product limit), with se; Efron and Breslow; landmark at 2 y
#   risk_untied  CSC + predictRisk with se on 400 simulated people without tied times (data
#                inline): riskRegression's standard errors where ties play no part
suppressMessages({
  library(survival); library(Hmisc); library(cmprsk); library(riskRegression)
})
source("tests/reference/json_exact.R")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)
ctl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-14)

fl <- read.csv("tests/reference/data/flchain.csv")
fl <- fl[!is.na(fl$creatinine) & fl$futime > 0, ]
fl$id <- seq_len(nrow(fl))
fl$status <- ifelse(fl$death == 0, 0L, ifelse(fl$chapter == "Circulatory", 1L, 2L))
b <- rcspline.eval(fl$creatinine, nk = 4, inclx = TRUE)
knots <- attr(b, "knots")
fl$c1 <- b[, 1]; fl$c2 <- b[, 2]; fl$c3 <- b[, 3]
X <- as.matrix(fl[, c("c1", "c2", "c3", "age", "sex")])
years <- c(1, 5, 10)
tt <- 365.25 * years
out <- list(survival = as.character(packageVersion("survival")),
            riskRegression = as.character(packageVersion("riskRegression")),
            cmprsk = as.character(packageVersion("cmprsk")),
            rows = "creatinine not missing and futime > 0", n = nrow(fl),
            columns = colnames(X), knots = A(knots),
            event_counts = as.list(table(fl$status)))

# --- cause-specific Cox -----------------------------------------------------------------------
out$csc <- lapply(1:2, function(k) {
  f <- coxph(Surv(futime, status == k) ~ X, data = fl, control = ctl)
  list(cause = k, coef = A(coef(f)), se = A(sqrt(diag(f$var))), loglik = A(f$loglik))
})

# --- Fine-Gray by finegray + weighted coxph ---------------------------------------------------
fl$fstat <- factor(fl$status, 0:2, c("censor", "circ", "other"))
fg <- finegray(Surv(futime, fstat) ~ ., data = fl, etype = "circ")
Xfg <- as.matrix(fg[, c("c1", "c2", "c3", "age", "sex")])
out$finegray <- lapply(c("efron", "breslow"), function(ties) {
  f <- coxph(Surv(fgstart, fgstop, fgstatus) ~ Xfg, weights = fgwt, cluster = id, data = fg,
             ties = ties, control = ctl)
  list(ties = ties, coef = A(coef(f)), robust_se = A(sqrt(diag(f$var))),
       naive_se = A(sqrt(diag(f$naive.var))), loglik = A(f$loglik))
})
out$finegray_rows <- list(nrow = nrow(fg), sum_wt = sum(fg$fgwt),
                          head = list(id = A(fg$id[1:300]), start = A(fg$fgstart[1:300]),
                                      stop = A(fg$fgstop[1:300]), status = A(fg$fgstatus[1:300]),
                                      wt = A(fg$fgwt[1:300])))

# --- cmprsk::crr ------------------------------------------------------------------------------
cr <- crr(fl$futime, fl$status, cov1 = X, failcode = 1, cencode = 0)
out$crr <- list(coef = A(cr$coef), se = A(sqrt(diag(cr$var))), converged = cr$converged)

# --- Aalen-Johansen ---------------------------------------------------------------------------
aj_at <- function(sf, times) {
  s <- summary(sf, times = times, extend = TRUE)
  # columns of pstate: (s0), 1, 2 in survival 3.x ordering: the states are the factor levels
  states <- sf$states
  k <- match(c("circ", "other"), states)
  list(times = A(times), states = states,
       cif1 = A(s$pstate[, k[1]]), cif2 = A(s$pstate[, k[2]]),
       se1 = A(s$std.err[, k[1]]), se2 = A(s$std.err[, k[2]]),
       lower1 = A(s$lower[, k[1]]), upper1 = A(s$upper[, k[1]]))
}
sf <- survfit(Surv(futime, fstat) ~ 1, data = fl)
sf_ll <- survfit(Surv(futime, fstat) ~ 1, data = fl, conf.type = "log-log")
out$aj <- list(log = aj_at(sf, tt), loglog = aj_at(sf_ll, tt))

fl$cgroup <- cut(fl$creatinine, c(-Inf, 0.8, 1.0, 1.2, Inf), labels = FALSE)
ci <- cuminc(fl$futime, fl$status, group = fl$cgroup)
tp <- timepoints(ci, tt)
grp_aj <- lapply(sort(unique(fl$cgroup)), function(g) {
  s <- survfit(Surv(futime, fstat) ~ 1, data = fl[fl$cgroup == g, ])
  c(list(group = g), aj_at(s, tt))
})
out$cuminc <- list(groups = "creatinine <= 0.8, (0.8, 1.0], (1.0, 1.2], > 1.2 -> 1..4",
                   est = tp$est, var = tp$var, rownames = rownames(tp$est),
                   gray_stat = A(ci$Tests[, "stat"]), gray_p = A(ci$Tests[, "pv"]),
                   gray_df = A(ci$Tests[, "df"]), survfit_by_group = grp_aj)

# --- age as the time scale, delayed entry -----------------------------------------------------
ag <- fl
ag$exit <- ag$age + ag$futime / 365.25
fga <- finegray(Surv(age, exit, fstat) ~ ., data = ag, id = id, etype = "circ")
Xa <- as.matrix(fga[, c("c1", "c2", "c3", "sex")])
fa <- coxph(Surv(fgstart, fgstop, fgstatus) ~ Xa, weights = fgwt, cluster = id, data = fga,
            control = ctl)
sfa <- survfit(Surv(age, exit, fstat) ~ 1, data = ag, id = id)
ages <- c(70, 80, 90)
out$age_scale <- list(columns = colnames(Xa), entry = "age", time = "age + futime / 365.25",
                      coef = A(coef(fa)), robust_se = A(sqrt(diag(fa$var))),
                      nrow = nrow(fga), sum_wt = sum(fga$fgwt), aj = aj_at(sfa, ages))

# --- CSC + predictRisk ------------------------------------------------------------------------
grid <- seq(0.6, 2.0, by = 0.1)
gb <- rcspline.eval(grid, knots = knots, inclx = TRUE)
nd <- data.frame(c1 = gb[, 1], c2 = gb[, 2], c3 = gb[, 3], age = 70, sex = 0)
risk_case <- function(ties) {
  csc <- CSC(Hist(futime, status) ~ c1 + c2 + c3 + age + sex, data = fl, cause = 1,
             ties = ties)
  p <- predict(csc, newdata = nd, times = tt[3], cause = 1, se = TRUE)
  lm <- predict(csc, newdata = nd, times = tt[3], cause = 1, landmark = 2 * 365.25)
  list(ties = ties, risk = A(p$absRisk[, 1]), se = A(p$absRisk.se[, 1]),
       lower = A(p$absRisk.lower[, 1]), upper = A(p$absRisk.upper[, 1]),
       landmark = 2 * 365.25, risk_landmark = A(lm$absRisk[, 1]),
       coef1 = A(coef(csc$models[[1]])), coef2 = A(coef(csc$models[[2]])))
}
out$risk <- list(grid = A(grid), time = tt[3], profile = list(age = 70, sex = 0),
                 cases = lapply(c("efron", "breslow"), risk_case))

# --- CSC standard errors on data without ties -------------------------------------------------
set.seed(3); n <- 400
x <- rnorm(n); z <- rbinom(n, 1, 0.5)
t1 <- rexp(n, 0.1 * exp(0.5 * x)); t2 <- rexp(n, 0.15 * exp(-0.3 * x + 0.4 * z))
cens <- runif(n, 0, 15)
sim <- data.frame(time = pmin(t1, t2, cens), x = x, z = z)
sim$status <- ifelse(cens < pmin(t1, t2), 0L, ifelse(t1 < t2, 1L, 2L))
csc <- CSC(Hist(time, status) ~ x + z, data = sim, cause = 1)
nd <- data.frame(x = c(-1, 0, 1.5), z = c(0, 1, 0))
p <- predict(csc, newdata = nd, times = 5, cause = 1, se = TRUE)
out$risk_untied <- list(data = list(time = A(sim$time), status = A(sim$status), x = A(sim$x),
                                    z = A(sim$z)),
                        profiles = list(x = A(nd$x), z = A(nd$z)), time = 5,
                        risk = A(p$absRisk[, 1]), se = A(p$absRisk.se[, 1]))

write_json_exact(out, "tests/reference/competing_extra.json")
