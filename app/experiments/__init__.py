"""Experiments between template versions: assignment and the statistics that judge them by
payment. A customer is put in one arm by a hash of the experiment and the customer
(`assignment`); per-bill records become per-arm figures against control: conversion and lift
with anytime-valid intervals, chance to beat control and expected loss (`engine`,
`analysis`), the sample ratio mismatch check (`srm`), days to pay as censored survival
curves (`survival`); `population` is a synthetic population of payers for simulations.
"""
