/*
 * version_agree.c — prints what the header says and what the linked library
 * says about its version, one "key value" line each, for
 * tests/abi/check-versions.sh to compare with the .pc file, the shared
 * object's file name and soname, and CHANGELOG.md.
 */
#include <stdio.h>
#include <prefloss.h>

int main(void)
{
    printf("header_version %s\n", PREFLOSS_VERSION);
    printf("header_triple %d.%d.%d\n", PREFLOSS_VERSION_MAJOR,
           PREFLOSS_VERSION_MINOR, PREFLOSS_VERSION_PATCH);
    printf("header_number %d\n", PREFLOSS_VERSION_NUMBER);
    printf("header_abi %d\n", PREFLOSS_ABI_VERSION);
    printf("library_version %s\n", prefloss_version());
    printf("library_number %d\n", prefloss_version_number());
    printf("library_abi %d\n", prefloss_abi_version());
    return 0;
}
