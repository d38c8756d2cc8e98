"""The demo Innovationstag: event, rooms, programme, networks and participants."""
