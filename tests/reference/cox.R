# Reference Cox fits from R survival::coxph (3.5.3) with tight control, for mgrisk.fit_cox.
# Run from the repository root: Rscript tests/reference/cox.R  ->  tests/reference/cox.json
# Data: tests/reference/data/flchain.csv and rotterdam.csv (export_data.R). Spline columns are
# built explicitly with Hmisc::rcspline.eval(x, nk, inclx = TRUE) and their knots are stored, so
# Python builds the same design. flchain: rows with creatinine; sex 1 = male.
suppressMessages({library(survival); library(Hmisc)})
source("tests/reference/json_exact.R")
ctl <- coxph.control(eps = 1e-12, iter.max = 100, toler.chol = 1e-14)
fl <- read.csv("tests/reference/data/flchain.csv")
fl <- fl[!is.na(fl$creatinine), ]
fl$row <- seq_len(nrow(fl)) - 1  # 0-based row in the filtered data
rt <- read.csv("tests/reference/data/rotterdam.csv")
A <- function(v) structure(as.numeric(v), keep_array = TRUE)

rcs_cols <- function(x, nk, name) {
  b <- rcspline.eval(x, nk = nk, inclx = TRUE)
  knots <- attr(b, "knots")
  b <- unclass(b); attr(b, "knots") <- NULL
  colnames(b) <- paste0(name, c("", strrep("'", seq_len(ncol(b) - 1))))
  list(X = b, knots = knots)
}

cases <- list()
record <- function(name, fit, design, extra = list()) {
  bh <- basehaz(fit, centered = FALSE)
  if (is.null(bh$strata)) bh$strata <- "all"
  picks <- do.call(rbind, lapply(split(bh, bh$strata), function(b)
    b[unique(round(seq(1, nrow(b), length.out = 6))), ]))
  robust <- !is.null(fit$naive.var)
  case <- c(list(
    name = name, design = design,
    coef = A(coef(fit)), se = A(sqrt(diag(fit$var))),
    naive_se = if (robust) A(sqrt(diag(fit$naive.var))) else NULL,
    var = fit$var, loglik = A(fit$loglik), score = fit$score, wald = fit$wald.test,
    iter = fit$iter, n = fit$n, nevent = fit$nevent,
    linear_predictors = A(fit$linear.predictors[1:20]),
    basehaz = list(time = A(picks$time), hazard = A(picks$hazard), strata = as.character(picks$strata))
  ), extra)
  cases[[length(cases) + 1]] <<- case
}

cr <- rcs_cols(fl$creatinine, 4, "creatinine")
Xfl <- cbind(cr$X, age = fl$age, sex = fl$sex)
d1 <- list(data = "flchain", rows = "creatinine not missing", columns = colnames(Xfl),
           rcs = list(list(var = "creatinine", knots = A(cr$knots))), time = "futime",
           event = "death")
record("flchain efron", coxph(Surv(fl$futime, fl$death) ~ Xfl, control = ctl), d1)
record("flchain breslow", coxph(Surv(fl$futime, fl$death) ~ Xfl, ties = "breslow", control = ctl), d1)
record("flchain robust", coxph(Surv(fl$futime, fl$death) ~ Xfl, robust = TRUE, control = ctl),
       c(d1, robust = TRUE))
w <- 0.5 + (fl$row %% 3) / 2
for (ties in c("efron", "breslow"))
  record(paste("flchain weights", ties),
         coxph(Surv(fl$futime, fl$death) ~ Xfl, weights = w, ties = ties, control = ctl),
         c(d1, weights = "0.5 + (row % 3) / 2", ties = ties))
record("flchain strata sex", coxph(Surv(fl$futime, fl$death) ~ Xfl[, 1:4] + strata(fl$sex),
                                   control = ctl),
       c(d1[names(d1) != "columns"], list(columns = colnames(Xfl)[1:4], strata = "sex")))

# age as the time scale with delayed entry (rows with futime > 0)
ag <- fl[fl$futime > 0, ]
ag$exit <- ag$age + ag$futime / 365.25
cra <- rcs_cols(ag$creatinine, 4, "creatinine")
Xag <- cbind(cra$X, sex = ag$sex, kappa = ag$kappa)
record("flchain age scale", coxph(Surv(ag$age, ag$exit, ag$death) ~ Xag, control = ctl),
       list(data = "flchain", rows = "creatinine not missing and futime > 0",
            columns = colnames(Xag), rcs = list(list(var = "creatinine", knots = A(cra$knots))),
            entry = "age", time = "age + futime / 365.25", event = "death"))

# time-varying covariate by survSplit at 2 and 5 years, robust variance clustered by person
sp <- survSplit(Surv(futime / 365.25, death) ~ ., data = fl[fl$futime > 0, ], cut = c(2, 5), episode = "period",
                start = "tstart", end = "tstop")
sp$late_kappa <- sp$kappa * (sp$period >= 2)
crs <- rcspline.eval(sp$creatinine, knots = cr$knots, inclx = TRUE)
Xsp <- cbind(unclass(crs)[, 1:3], age = sp$age, sex = sp$sex, late_kappa = sp$late_kappa)
colnames(Xsp)[1:3] <- colnames(cr$X)
record("flchain survSplit cluster", coxph(Surv(sp$tstart, sp$tstop, sp$death) ~ Xsp + cluster(sp$row),
                                          control = ctl),
       list(data = "flchain", rows = "creatinine not missing and futime > 0; split at 2 and 5 years",
            columns = colnames(Xsp), rcs = list(list(var = "creatinine", knots = A(cr$knots))),
            split = A(c(2, 5)), late_kappa = "kappa * (period >= 2) (period 1, 2, 3)",
            cluster = "row", robust = TRUE))

# rotterdam: recurrence with splines of age and pgr (pgr has many ties at 0)
ra <- rcs_cols(rt$age, 5, "age"); rp <- rcs_cols(rt$pgr, 3, "pgr")
Xrt <- cbind(ra$X, rp$X, nodes = rt$nodes)
record("rotterdam splines", coxph(Surv(rt$rtime, rt$recur) ~ Xrt, control = ctl),
       list(data = "rotterdam", rows = "all", columns = colnames(Xrt),
            rcs = list(list(var = "age", knots = A(ra$knots)), list(var = "pgr", knots = A(rp$knots))),
            time = "rtime", event = "recur"))

# small hand-made data with heavy ties, a stratum and delayed entry
small <- data.frame(
  entry = c(0, 0, 1, 0, 2, 0, 0, 1, 0, 0, 3, 0, 0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0),
  time = c(4, 3, 4, 5, 6, 2, 4, 4, 7, 3, 5, 5, 2, 6, 4, 3, 4, 8, 5, 6, 3, 2, 4, 4, 6, 7, 3, 5, 4, 6),
  status = c(1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1),
  x1 = c(0.5, 1.2, -0.3, 0.8, 1.5, -1.1, 0.2, 0.9, -0.5, 1.1, 0.3, -0.8, 1.4, 0.1, -0.2, 0.7, 1.0,
         -1.3, 0.4, 0.6, -0.9, 1.3, 0.0, -0.4, 0.8, 1.6, -0.7, 0.2, 0.5, -0.1),
  x2 = rep(c(0, 1, 1), 10), s = rep(c(1, 2), 15))
for (ties in c("efron", "breslow")) {
  record(paste("small ties", ties),
         coxph(Surv(entry, time, status) ~ x1 + x2 + strata(s), data = small, ties = ties, control = ctl),
         list(data = "inline", columns = c("x1", "x2"), entry = "entry", time = "time",
              event = "status", strata = "s", ties = ties,
              inline = lapply(small, function(v) structure(as.numeric(v), keep_array = TRUE))))
}
write_json_exact(list(survival_version = as.character(packageVersion("survival")), cases = cases),
                 "tests/reference/cox.json")
