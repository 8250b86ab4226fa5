"""Experiments between template versions: assignment and the statistics that judge them by
payment. A customer is put in one arm by a hash of the experiment and the customer
(`assignment`); per-bill records become per-arm figures against control: conversion and lift
with anytime-valid intervals, chance to beat control and expected loss (`engine`,
`analysis`), the sample ratio mismatch check (`srm`), days to pay as censored survival
curves (`survival`), read per arm (`summary`); `population` is a synthetic population of
payers for simulations. These import no database.

The service around them: an account's experiments and their life as rows (`store`), a
render placed in its customer's arm when accepted, pinned to that arm's version
(`placement`), and the records read back from renders, payments and events (`collect`).
"""
