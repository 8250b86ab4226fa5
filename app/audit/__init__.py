"""Audit: who changed what, when, through which request. Every change made with an API key,
a dashboard session or the command line is one entry; entries hold ids and never customer
data (a customer's id is kept as a keyed hash), and admins read and export them.
"""
