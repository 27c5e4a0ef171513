# tests/unikernel/evsource: the runtime's registry of event sources
# (include/uweb/event_source.h), linked with libuweb.a (no lwIP: the
# runtime no longer depends on it).
GUEST_TEST_LIBS_evsource := uweb
UK_TEST_MANIFEST_evsource := none
