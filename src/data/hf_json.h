// hf_json.h — typed fields of a tokenizer.json object, each error one line
// naming the file and the field: "tok.json: model.ignore_merges must be true
// or false". `where` is the object's place ("pre_tokenizer.pretokenizers[1]").
// A field that is null reads as absent.
#pragma once
#include <cjson/cJSON.h>

#include "core/err.h"

typedef struct {
    const char *path;   // the file, for messages
    const char *where;  // the object's place in it
    slm_err *err;
} slm_hfj;

// The field key of obj, NULL when absent or null.
const cJSON *slm_hfj_get(const cJSON *obj, const char *key);
// A string field: *out (NULL when absent and not required); 0 or -1 with err.
int slm_hfj_string(const slm_hfj *at, const cJSON *obj, const char *key, int required, const char **out);
// A boolean field: *out, or dflt when absent (dflt < 0: required); 0 or -1.
int slm_hfj_bool(const slm_hfj *at, const cJSON *obj, const char *key, int dflt, int *out);
// A whole number in [0, limit): 0 or -1 with err ("… must be a whole number from 0 to LIMIT-1").
int slm_hfj_index(const slm_hfj *at, const cJSON *value, const char *what, double limit, unsigned *out);
// obj itself must be an object with a string "type"; *type is it. 0 or -1.
int slm_hfj_type(const slm_hfj *at, const cJSON *obj, const char **type);
