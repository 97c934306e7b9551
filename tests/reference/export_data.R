# Export the public data sets the fixtures use (R survival's flchain and rotterdam) as CSV.
# Run from the repository root: Rscript tests/reference/export_data.R
suppressMessages(library(survival))
fl <- flchain[, c("age", "sex", "kappa", "lambda", "creatinine", "futime", "death", "chapter")]
fl$sex <- as.integer(fl$sex == "M")  # 1 = male
fl$chapter <- as.character(fl$chapter)
write.csv(fl, "tests/reference/data/flchain.csv", row.names = FALSE, na = "")
rt <- rotterdam[, c("pid", "age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon",
                    "chemo", "rtime", "recur", "dtime", "death")]
write.csv(rt, "tests/reference/data/rotterdam.csv", row.names = FALSE, na = "")
