"""The `stomper` command line: craft, inspect, send and receive STOMP frames."""
