"""The figures a credit manager is judged by: per billing run, segment, tone, template
version and journey step, the bills and amount due, paid by the due date and within 7/15/30
days of it, cure rate after each step, days to pay as censored Kaplan-Meier quantiles, amount
recovered, and days sales outstanding with its change against the hold-out or the previous
run; set-based SQL over renders, payments and journey steps (docs/collection.md)."""
