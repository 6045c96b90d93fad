/*
 * test_version.c — the version macros agree with the library's run-time
 * twins, and every status code has a message and a name.
 */
#include "testutil.h"

/* The run-time version string is the header's PREFLOSS_VERSION, and it is
 * "MAJOR.MINOR.PATCH" built from the three macros. */
static void test_version_string_matches_header(void **state)
{
    char buf[64];
    (void)state;
    assert_non_null(prefloss_version());
    assert_string_equal(prefloss_version(), PREFLOSS_VERSION);
    snprintf(buf, sizeof buf, "%d.%d.%d", PREFLOSS_VERSION_MAJOR,
             PREFLOSS_VERSION_MINOR, PREFLOSS_VERSION_PATCH);
    assert_string_equal(PREFLOSS_VERSION, buf);
}

/* prefloss_version_number() == PREFLOSS_VERSION_NUMBER ==
 * MAJOR*10000 + MINOR*100 + PATCH. */
static void test_version_number(void **state)
{
    (void)state;
    assert_int_equal(prefloss_version_number(), PREFLOSS_VERSION_NUMBER);
    assert_int_equal(PREFLOSS_VERSION_NUMBER,
                     PREFLOSS_VERSION_MAJOR * 10000 +
                         PREFLOSS_VERSION_MINOR * 100 + PREFLOSS_VERSION_PATCH);
    assert_int_equal(PREFLOSS_VERSION_MAJOR, 1);
}

/* The ABI version (soname number) is exposed separately. */
static void test_abi_version(void **state)
{
    (void)state;
    assert_int_equal(prefloss_abi_version(), PREFLOSS_ABI_VERSION);
    assert_int_equal(PREFLOSS_ABI_VERSION, 1);
}

/* The status codes have the documented values (they are never renumbered). */
static void test_status_values(void **state)
{
    (void)state;
    assert_int_equal(PREFLOSS_OK, 0);
    assert_int_equal(PREFLOSS_NONFINITE, 1);
    assert_int_equal(PREFLOSS_ERR_NULL, -1);
    assert_int_equal(PREFLOSS_ERR_PARAM, -2);
    assert_int_equal(PREFLOSS_ERR_OVERLAP, -3);
    assert_int_equal(PREFLOSS_ERR_SIZE, -4);
    assert_int_equal(PREFLOSS_ERR_ROUNDING, -5);
    assert_int_equal(PREFLOSS_ERR_UNSUPPORTED, -6);
    assert_int_equal(PREFLOSS_REDUCE_SUM, 0);
    assert_int_equal(PREFLOSS_REDUCE_MEAN, 1);
}

static const int known_codes[] = {
    PREFLOSS_OK, PREFLOSS_NONFINITE, PREFLOSS_ERR_NULL, PREFLOSS_ERR_PARAM,
    PREFLOSS_ERR_OVERLAP, PREFLOSS_ERR_SIZE, PREFLOSS_ERR_ROUNDING,
    PREFLOSS_ERR_UNSUPPORTED
};
#define N_KNOWN (sizeof known_codes / sizeof known_codes[0])

/* Every code has its own non-empty message; none is the "unknown" one. */
static void test_strerror_known_codes(void **state)
{
    size_t i, j;
    (void)state;
    for (i = 0; i < N_KNOWN; i++) {
        const char *m = prefloss_strerror(known_codes[i]);
        assert_non_null(m);
        assert_true(strlen(m) > 0);
        assert_string_not_equal(m, "unknown status code");
        for (j = 0; j < i; j++)
            assert_string_not_equal(m, prefloss_strerror(known_codes[j]));
    }
}

/* An unknown code gives "unknown status code", never NULL. */
static void test_strerror_unknown_code(void **state)
{
    static const int unknown[] = { 2, 7, -7, -100, 1000, -2147483647 - 1, 2147483647 };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *m = prefloss_strerror(unknown[i]);
        assert_non_null(m);
        assert_string_equal(m, "unknown status code");
    }
}

/* status_name gives the macro name of each code, NULL for unknown codes. */
static void test_status_name(void **state)
{
    (void)state;
    assert_string_equal(prefloss_status_name(PREFLOSS_OK), "PREFLOSS_OK");
    assert_string_equal(prefloss_status_name(PREFLOSS_NONFINITE), "PREFLOSS_NONFINITE");
    assert_string_equal(prefloss_status_name(PREFLOSS_ERR_NULL), "PREFLOSS_ERR_NULL");
    assert_string_equal(prefloss_status_name(PREFLOSS_ERR_PARAM), "PREFLOSS_ERR_PARAM");
    assert_string_equal(prefloss_status_name(PREFLOSS_ERR_OVERLAP), "PREFLOSS_ERR_OVERLAP");
    assert_string_equal(prefloss_status_name(PREFLOSS_ERR_SIZE), "PREFLOSS_ERR_SIZE");
    assert_string_equal(prefloss_status_name(PREFLOSS_ERR_ROUNDING), "PREFLOSS_ERR_ROUNDING");
    assert_string_equal(prefloss_status_name(PREFLOSS_ERR_UNSUPPORTED), "PREFLOSS_ERR_UNSUPPORTED");
    assert_null(prefloss_status_name(2));
    assert_null(prefloss_status_name(-7));
    assert_null(prefloss_status_name(-2147483647 - 1));
    assert_null(prefloss_status_name(2147483647));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_string_matches_header),
        cmocka_unit_test(test_version_number),
        cmocka_unit_test(test_abi_version),
        cmocka_unit_test(test_status_values),
        cmocka_unit_test(test_strerror_known_codes),
        cmocka_unit_test(test_strerror_unknown_code),
        cmocka_unit_test(test_status_name),
    };
    return cmocka_run_group_tests_name("version", tests, NULL, NULL);
}
