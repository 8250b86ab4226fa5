"""The dashboard at `/dashboard`: a billing run's funnel as charts, reminder journeys,
experiments with their figures, and the template studio, behind an API key login."""
