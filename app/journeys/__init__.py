"""Reminder journeys: cadences of renders around a bill's due date, their stop rules and
contact limits, scheduled in the database.

    model      a journey's definition (pydantic): steps placed in days from the due date,
               each with its template, tone and outputs; quiet hours, contact limit
    store      journeys as versioned data, per account; a bill pins the version it got
    timing     when a step is due in the customer's time zone, out of quiet hours
    enroll     a bill submitted with a journey: its steps become scheduled rows
    contacts   a customer's recent contacts over all their bills, for the contact limit
    scheduler  claims due steps (SKIP LOCKED), decides, makes their renders, enqueues them
    delivery   a step's render finished: its `journey.step_ready` webhook, exactly once
    stops      paid, a plan or promise on the microsite, cancelled: the journey stops at once
    history    a bill's journey as the API and the dashboard show it
"""
