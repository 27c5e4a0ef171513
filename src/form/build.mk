# src/form: urlencoded and typed form bodies (include/uweb/form.h), over
# src/multipart.
UNIT_MODULES_test_form := form multipart web http util tls runtime net stream
FUZZ_MODULES_form := form compress multipart web http util tls runtime net stream
FUZZ_LDLIBS_form := -lbrotlienc
