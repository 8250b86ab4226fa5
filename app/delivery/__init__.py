"""Delivery: what a customer's link is (tokens, the URLs of a render's outputs, a render found
by its token) and how long it lives (retention, purge, a customer's erasure).
"""
