// utc_time with gmtime_r and strftime; kept out of the header so <ctime> stays local.
#include "cli/utc_time.h"

#include <ctime>

namespace tern::cli {

std::string utc_time(std::int64_t unix_seconds) {
    if (unix_seconds == 0) return "-";
    std::time_t tt = unix_seconds;
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf;
}

}  // namespace tern::cli
