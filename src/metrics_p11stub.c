// SPDX-License-Identifier: GPL-2.0-only
/*
 * The static binary only (make static): stand-ins for the p11-kit
 * functions GnuTLS refers to. Debian ships no libp11-kit.a, and
 * libmicrohttpd.a pulls in GnuTLS. GnuTLS reaches p11-kit only for
 * PKCS #11 tokens (pkcs11: URLs, loaded modules), and the --metrics
 * server speaks plain HTTP without TLS: none of these runs. Should one
 * run, it fails as p11-kit does without modules: nothing loaded, no URI,
 * no PIN.
 */
#include <stdlib.h>
#include <string.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pin.h>
#include <p11-kit/uri.h>

static const char not_here[] = "p11-kit is not part of this static build";

P11KitUri *p11_kit_uri_new(void) { return NULL; }
void p11_kit_uri_free(P11KitUri *uri) { }
CK_TOKEN_INFO_PTR p11_kit_uri_get_token_info(P11KitUri *uri) { return NULL; }
CK_INFO_PTR p11_kit_uri_get_module_info(P11KitUri *uri) { return NULL; }
CK_ATTRIBUTE_PTR p11_kit_uri_get_attribute(P11KitUri *uri, CK_ATTRIBUTE_TYPE attr_type) { return NULL; }
CK_ATTRIBUTE_PTR p11_kit_uri_get_attributes(P11KitUri *uri, CK_ULONG *n)
{
	if (n)
		*n = 0;
	return NULL;
}
int p11_kit_uri_set_attribute(P11KitUri *uri, CK_ATTRIBUTE_PTR attr) { return P11_KIT_URI_NO_MEMORY; }
int p11_kit_uri_match_token_info(const P11KitUri *uri, const CK_TOKEN_INFO *t) { return 0; }
int p11_kit_uri_match_module_info(const P11KitUri *uri, const CK_INFO *i) { return 0; }
int p11_kit_uri_format(P11KitUri *uri, P11KitUriType type, char **s) { return P11_KIT_URI_NO_MEMORY; }
int p11_kit_uri_parse(const char *s, P11KitUriType type, P11KitUri *uri) { return P11_KIT_URI_BAD_SCHEME; }
const char *p11_kit_uri_get_pin_value(const P11KitUri *uri) { return NULL; }
const char *p11_kit_uri_get_pin_source(const P11KitUri *uri) { return NULL; }

CK_FUNCTION_LIST **p11_kit_modules_load(const char *reserved, int flags) { return NULL; }
CK_FUNCTION_LIST *p11_kit_module_load(const char *path, int flags) { return NULL; }
void p11_kit_module_release(CK_FUNCTION_LIST *module) { }
CK_RV p11_kit_module_finalize(CK_FUNCTION_LIST *module) { return CKR_GENERAL_ERROR; }
char *p11_kit_module_get_name(CK_FUNCTION_LIST *module) { return NULL; }
int p11_kit_module_get_flags(CK_FUNCTION_LIST *module) { return 0; }
char *p11_kit_config_option(CK_FUNCTION_LIST *module, const char *option) { return NULL; }
const char *p11_kit_strerror(CK_RV rv) { return not_here; }
const char *p11_kit_message(void) { return not_here; }

/* PKCS #11 pads its text fields with spaces */
size_t p11_kit_space_strlen(const unsigned char *s, size_t max)
{
	while (max && s[max - 1] == ' ')
		max--;
	return max;
}

char *p11_kit_space_strdup(const unsigned char *s, size_t max)
{
	return strndup((const char *)s, p11_kit_space_strlen(s, max));
}

P11KitPin *p11_kit_pin_new_for_string(const char *value) { return NULL; }
P11KitPin *p11_kit_pin_request(const char *source, P11KitUri *uri, const char *pin_description,
			       P11KitPinFlags flags) { return NULL; }
P11KitPin *p11_kit_pin_file_callback(const char *source, P11KitUri *uri, const char *pin_description,
				     P11KitPinFlags flags, void *data) { return NULL; }
int p11_kit_pin_register_callback(const char *source, p11_kit_pin_callback callback, void *data,
				  p11_kit_pin_destroy_func destroy) { return -1; }
void p11_kit_pin_unregister_callback(const char *source, p11_kit_pin_callback callback, void *data) { }
void p11_kit_pin_unref(P11KitPin *pin) { }
const unsigned char *p11_kit_pin_get_value(P11KitPin *pin, size_t *length)
{
	if (length)
		*length = 0;
	return NULL;
}
size_t p11_kit_pin_get_length(P11KitPin *pin) { return 0; }
