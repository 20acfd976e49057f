// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for kbtf.c: function ids found by walking BTF, checked
// against libbpf's own parse, on BTF built with every kind and on the
// running kernel's.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include <linux/btf.h>

#include "kbtf.h"

/* BTF with one type of every kind the walk knows, functions among them */
static struct btf *every_kind(void)
{
	struct btf *b = btf__new_empty();
	int i32, proto, st;

	assert_non_null(b);
	i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	assert_true(btf__add_ptr(b, i32) > 0);
	assert_true(btf__add_array(b, i32, i32, 8) > 0);
	st = btf__add_struct(b, "sock", 8);
	assert_true(st > 0);
	assert_int_equal(btf__add_field(b, "a", i32, 0, 0), 0);
	assert_int_equal(btf__add_field(b, "b", i32, 32, 0), 0);
	assert_true(btf__add_union(b, "u", 4) > 0);
	assert_int_equal(btf__add_field(b, "x", i32, 0, 0), 0);
	assert_true(btf__add_enum(b, "e", 4) > 0);
	assert_int_equal(btf__add_enum_value(b, "E1", 1), 0);
	assert_int_equal(btf__add_enum_value(b, "E2", 2), 0);
	assert_true(btf__add_fwd(b, "fwd", BTF_FWD_STRUCT) > 0);
	assert_true(btf__add_typedef(b, "td", i32) > 0);
	assert_true(btf__add_volatile(b, i32) > 0);
	assert_true(btf__add_const(b, i32) > 0);
	assert_true(btf__add_restrict(b, i32) > 0);
	proto = btf__add_func_proto(b, i32);
	assert_true(proto > 0);
	assert_int_equal(btf__add_func_param(b, "sk", i32), 0);
	assert_int_equal(btf__add_func_param(b, "len", i32), 0);
	assert_true(btf__add_func(b, "first_func", BTF_FUNC_GLOBAL, proto) > 0);
	assert_true(btf__add_var(b, "v", BTF_VAR_GLOBAL_ALLOCATED, i32) > 0);
	assert_true(btf__add_datasec(b, ".data", 8) > 0);
	assert_int_equal(btf__add_datasec_var_info(b, btf__find_by_name(b, "v"), 0, 4), 0);
	assert_true(btf__add_float(b, "float", 4) > 0);
	assert_true(btf__add_decl_tag(b, "tag", st, -1) > 0);
	assert_true(btf__add_type_tag(b, "ttag", i32) > 0);
	assert_true(btf__add_enum64(b, "e64", 8, false) > 0);
	assert_int_equal(btf__add_enum64_value(b, "BIG", 1ULL << 40), 0);
	assert_true(btf__add_func(b, "tcp_v4_connect", BTF_FUNC_GLOBAL, proto) > 0);
	assert_true(btf__add_func(b, "tcp_v6_connect", BTF_FUNC_STATIC, proto) > 0);
	/* a name that is also a struct's: only the FUNC counts */
	assert_true(btf__add_func(b, "sock", BTF_FUNC_STATIC, proto) > 0);
	return b;
}

static void test_ids_match_libbpf(void **state)
{
	const char *names[] = { "tcp_v4_connect", "tcp_v6_connect", "first_func", "sock",
				"no_such_func", "int" };
	struct btf *b = every_kind();
	__u32 len;
	const void *raw = btf__raw_data(b, &len);
	int ids[6];

	(void)state;
	assert_int_equal(btf_func_ids(raw, len, names, ids, 6), 0);
	for (int i = 0; i < 6; i++) {
		int want = btf__find_by_name_kind(b, names[i], BTF_KIND_FUNC);

		assert_int_equal(ids[i], want < 0 ? -1 : want);
	}
	assert_int_equal(ids[4], -1);
	assert_int_equal(ids[5], -1);	/* an INT, not a FUNC */
	btf__free(b);
}

static void test_refuses_what_it_does_not_understand(void **state)
{
	const char *names[] = { "tcp_v4_connect" };
	struct btf *b = every_kind();
	__u32 len;
	const void *raw = btf__raw_data(b, &len);
	unsigned char *copy = malloc(len);
	struct btf_header *h = (struct btf_header *)copy;
	struct btf_type *first;
	int ids[1];

	(void)state;
	memcpy(copy, raw, len);
	/* cut short */
	assert_int_equal(btf_func_ids(copy, len - 1, names, ids, 1), -1);
	assert_int_equal(btf_func_ids(copy, 10, names, ids, 1), -1);
	/* not BTF */
	h->magic = 0x1234;
	assert_int_equal(btf_func_ids(copy, len, names, ids, 1), -1);
	h->magic = BTF_MAGIC;
	assert_int_equal(btf_func_ids(copy, len, names, ids, 1), 0);
	/* a kind from a newer kernel: its size is unknown, nothing after it
	 * can be found
	 */
	first = (struct btf_type *)(copy + h->hdr_len + h->type_off);
	first->info = (first->info & ~(0x1fU << 24)) | (30U << 24);
	assert_int_equal(btf_func_ids(copy, len, names, ids, 1), -1);
	free(copy);
	btf__free(b);
}

/* The running kernel's BTF: the walk and libbpf agree. */
static void test_kernel_matches_libbpf(void **state)
{
	const char *names[] = { "tcp_v4_connect", "tcp_v6_connect", "tcp_connect" };
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int ids[3];

	(void)state;
	assert_non_null(vmlinux);
	assert_int_equal(file_func_ids(NULL, names, ids, 3), 0);
	for (int i = 0; i < 3; i++) {
		int want = btf__find_by_name_kind(vmlinux, names[i], BTF_KIND_FUNC);

		assert_true(want > 0);
		assert_int_equal(ids[i], want);
	}
	btf__free(vmlinux);
}

/* A BTF file, as --btf gives it: the same ids as in memory; no file, or
 * a file that is not BTF, is -1.
 */
static void test_file(void **state)
{
	const char *names[] = { "tcp_v4_connect", "tcp_v6_connect", "no_such_func" };
	char path[] = "/tmp/tcl-kbtf-XXXXXX";
	struct btf *b = every_kind();
	__u32 len;
	const void *raw = btf__raw_data(b, &len);
	int fd = mkstemp(path), ids[3];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, raw, len), (ssize_t)len);
	close(fd);
	assert_int_equal(file_func_ids(path, names, ids, 3), 0);
	assert_int_equal(ids[0], btf__find_by_name_kind(b, names[0], BTF_KIND_FUNC));
	assert_int_equal(ids[1], btf__find_by_name_kind(b, names[1], BTF_KIND_FUNC));
	assert_int_equal(ids[2], -1);
	assert_int_equal(truncate(path, 4), 0);
	assert_int_equal(file_func_ids(path, names, ids, 3), -1);
	unlink(path);
	assert_int_equal(file_func_ids(path, names, ids, 3), -1);
	btf__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_match_libbpf),
		cmocka_unit_test(test_refuses_what_it_does_not_understand),
		cmocka_unit_test(test_kernel_matches_libbpf),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
