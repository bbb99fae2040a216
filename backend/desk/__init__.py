"""The bureau's desk (工作台): what its navigation needs from the server."""
