# src/files: files from a directory and single files on unix (include/uweb/files.h),
# on the static engine (src/static).
UNIT_MODULES_test_files := files static web http util tls runtime net stream
