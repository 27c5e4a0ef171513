# src/multipart: the streaming multipart/form-data parser.  Its unit test
# and fuzz target link src/multipart/ only (the defaults).  bench/multipart.sh
# compares it with Debian's python3-multipart and Node's busboy (fetched
# with npm into build/node_modules by the script).
DEB_PACKAGES += python3-multipart nodejs
