"""The customer's side of the HTTP service, under `/r/`: the microsite, the video and its
files, the pay link, calls to action and the video's progress beacons, and the friendly page
for a link that is unknown, expired or not ready.
"""
