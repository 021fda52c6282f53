"""hexmap: tags on the tiles of vde's maps, served over HTTP."""
