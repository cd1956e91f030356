/* problem.h: RFC 9457 problem objects and HTTP reason phrases. */
#ifndef SB_CORE_PROBLEM_H
#define SB_CORE_PROBLEM_H

#include <jansson.h>

/* An RFC 9457 problem object.  slug NULL gives type "about:blank" and the
 * status' reason phrase as title.  Caller owns the reference. */
json_t		*problem_new(int status, const char *slug, const char *title, const char *detail);
const char	*http_reason(int status);

#endif /* SB_CORE_PROBLEM_H */
