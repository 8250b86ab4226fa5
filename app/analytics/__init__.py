"""Analytics: customers' visits and actions as typed events (visitor hashes, bots and bursts
flagged, written in batches), and a billing run's funnel and report computed from them.
"""
