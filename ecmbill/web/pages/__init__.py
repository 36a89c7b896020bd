"""One router per page of the web app; each route parses, calls a service, renders."""
