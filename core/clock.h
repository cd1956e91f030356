/* clock.h: the monotonic and wall clocks, and time as ISO 8601 text. */
#ifndef SB_CORE_CLOCK_H
#define SB_CORE_CLOCK_H

#include <stdint.h>

int64_t	 clock_mono_us(void);		/* monotonic microseconds */
int64_t	 clock_real_ms(void);		/* wall clock, ms since the epoch */
void	 clock_iso8601(char buf[32]);	/* now, UTC, millisecond precision */
void	 clock_iso8601_ms(int64_t ms, char buf[32]);	/* ms since the epoch, likewise */

#endif /* SB_CORE_CLOCK_H */
