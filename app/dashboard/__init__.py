"""The dashboard at `/dashboard`: a billing run's funnel as charts, behind an API key login."""
