"""The programme: events, rooms, activities, the timetable and its conflict checks."""
