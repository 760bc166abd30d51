/* Name resolution and the host name as a program sees them: getaddrinfo of
 * "localhost" (AF_INET, stream and datagram, with a service number), of
 * numeric IPv4 and IPv6 addresses, AI_PASSIVE without a name, AI_NUMERICHOST
 * refusing a name, getnameinfo of a loopback address; and gethostname,
 * uname's nodename and /proc/sys/kernel/hostname agreeing. glibc reads
 * /etc/nsswitch.conf and /etc/hosts, musl /etc/hosts: under myst both come
 * from the image, so the image must hold them. Nothing printed depends on
 * the host's own name or DNS.
 *
 * With arguments, each is a name to resolve (AF_INET, stream) and the
 * program prints "<name> <address or EAI_ error>", then the three host
 * names, for a test that knows the image's /etc/hosts and the config's
 * Hostname. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "verdict.h"

static const char* eai_name(int code) {
    switch (code) {
        case 0:
            return "success";
        case EAI_NONAME:
            return "EAI_NONAME";
        case EAI_AGAIN:
            return "EAI_AGAIN";
        case EAI_FAIL:
            return "EAI_FAIL";
        case EAI_FAMILY:
            return "EAI_FAMILY";
        case EAI_SERVICE:
            return "EAI_SERVICE";
        case EAI_SYSTEM:
            return "EAI_SYSTEM";
        default:
            return "EAI_other";
    }
}

/* The first address of a result as text with its port. */
static void address_text(const struct addrinfo* info, char* text, size_t size) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (info->ai_family == AF_INET) {
        const struct sockaddr_in* in = (const struct sockaddr_in*)info->ai_addr;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
    } else if (info->ai_family == AF_INET6) {
        const struct sockaddr_in6* in6 = (const struct sockaddr_in6*)info->ai_addr;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    }
    snprintf(text, size, "%s port %u", host, port);
}

/* getaddrinfo with the given hints; checks that the first result is
 * `expected` (address and port) and that every result has that address. */
static void expect_lookup(const char* name, const char* service, int family, int socktype,
                          int flags, const char* expected) {
    struct addrinfo hints = {.ai_family = family, .ai_socktype = socktype, .ai_flags = flags};
    struct addrinfo* result = NULL;
    int error = getaddrinfo(name, service, &hints, &result);
    const char* shown = name ? name : "(null)";
    if (error != 0) {
        verdict(0, "getaddrinfo(%s, %s, socktype %d) gives %s (got %s)", shown, service, socktype,
                expected, eai_name(error));
        return;
    }
    char first[128];
    address_text(result, first, sizeof(first));
    int all_same = 1, count = 0;
    for (struct addrinfo* info = result; info; info = info->ai_next, count++) {
        char text[128];
        address_text(info, text, sizeof(text));
        all_same = all_same && strcmp(text, first) == 0 && info->ai_socktype == socktype;
    }
    freeaddrinfo(result);
    int ok = strcmp(first, expected) == 0 && all_same;
    if (ok)
        verdict(1, "getaddrinfo(%s, %s, socktype %d) gives %s", shown, service, socktype, expected);
    else
        verdict(0, "getaddrinfo(%s, %s, socktype %d) gives %s (got %s, %d results%s)", shown,
                service, socktype, expected, first, count, all_same ? "" : ", not all alike");
}

static void expect_lookup_error(const char* name, int flags, int expected) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
    struct addrinfo* result = NULL;
    int error = getaddrinfo(name, "80", &hints, &result);
    if (error == 0)
        freeaddrinfo(result);
    CHECK(error == expected, "getaddrinfo(%s, flags %#x) fails with %s (got %s)", name, flags,
          eai_name(expected), eai_name(error));
}

/* /proc/sys/kernel/hostname without its newline; "" when unreadable. */
static void proc_hostname(char* name, size_t size) {
    name[0] = '\0';
    FILE* file = fopen("/proc/sys/kernel/hostname", "r");
    if (!file)
        return;
    if (!fgets(name, (int)size, file))
        name[0] = '\0';
    fclose(file);
    name[strcspn(name, "\n")] = '\0';
}

static int resolve_names(int count, char** names) {
    for (int i = 0; i < count; i++) {
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
        struct addrinfo* result = NULL;
        int error = getaddrinfo(names[i], NULL, &hints, &result);
        if (error != 0) {
            printf("%s %s\n", names[i], eai_name(error));
            continue;
        }
        char text[128];
        address_text(result, text, sizeof(text));
        printf("%s %s\n", names[i], text);
        freeaddrinfo(result);
    }
    char host[256] = "", from_proc[256];
    struct utsname name;
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "(gethostname failed)");
    if (uname(&name) != 0)
        snprintf(name.nodename, sizeof(name.nodename), "(uname failed)");
    proc_hostname(from_proc, sizeof(from_proc));
    printf("gethostname %s\nuname nodename %s\n/proc/sys/kernel/hostname %s\n", host, name.nodename,
           from_proc);
    fflush(stdout);
    return 0;
}

int main(int argc, char** argv) {
    if (argc > 1)
        return resolve_names(argc - 1, argv + 1);

    expect_lookup("localhost", "8080", AF_INET, SOCK_STREAM, 0, "127.0.0.1 port 8080");
    expect_lookup("localhost", "53", AF_INET, SOCK_DGRAM, 0, "127.0.0.1 port 53");
    expect_lookup("localhost", NULL, AF_INET, SOCK_STREAM, AI_CANONNAME, "127.0.0.1 port 0");
    expect_lookup("127.0.0.1", "80", AF_UNSPEC, SOCK_STREAM, 0, "127.0.0.1 port 80");
    expect_lookup("::1", "443", AF_UNSPEC, SOCK_STREAM, 0, "::1 port 443");
    expect_lookup("127.1", "80", AF_INET, SOCK_STREAM, AI_NUMERICHOST, "127.0.0.1 port 80");
    expect_lookup(NULL, "9000", AF_INET, SOCK_STREAM, AI_PASSIVE, "0.0.0.0 port 9000");
    expect_lookup(NULL, "9000", AF_INET, SOCK_STREAM, 0, "127.0.0.1 port 9000");
    expect_lookup(NULL, "9000", AF_INET6, SOCK_STREAM, AI_PASSIVE, ":: port 9000");
    expect_lookup_error("localhost", AI_NUMERICHOST, EAI_NONAME);

    /* The canonical name of localhost is the name itself (from /etc/hosts). */
    struct addrinfo hints = {
        .ai_family = AF_INET, .ai_socktype = SOCK_STREAM, .ai_flags = AI_CANONNAME};
    struct addrinfo* result = NULL;
    int error = getaddrinfo("localhost", NULL, &hints, &result);
    CHECK(error == 0 && result->ai_canonname && strcmp(result->ai_canonname, "localhost") == 0,
          "AI_CANONNAME of localhost is localhost");
    if (error == 0)
        freeaddrinfo(result);

    /* A connection to what getaddrinfo gave reaches a listener there. */
    hints.ai_flags = 0;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in bound = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(bound);
    int ok = listener >= 0 && bind(listener, (struct sockaddr*)&bound, sizeof(bound)) == 0 &&
             listen(listener, 1) == 0 &&
             getsockname(listener, (struct sockaddr*)&bound, &length) == 0;
    char port[16];
    snprintf(port, sizeof(port), "%u", ntohs(bound.sin_port));
    result = NULL;
    ok = ok && getaddrinfo("localhost", port, &hints, &result) == 0;
    int client = ok ? socket(result->ai_family, result->ai_socktype, 0) : -1;
    ok = ok && client >= 0 && connect(client, result->ai_addr, result->ai_addrlen) == 0;
    int accepted = ok ? accept(listener, NULL, NULL) : -1;
    CHECK(ok && accepted >= 0, "a connection to getaddrinfo(localhost)'s address is accepted");
    if (result)
        freeaddrinfo(result);
    close(accepted);
    close(client);
    close(listener);

    /* getnameinfo numeric: no lookup, the same text. */
    struct sockaddr_in loopback = {
        .sin_family = AF_INET, .sin_port = htons(8080), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char host[NI_MAXHOST], service[NI_MAXSERV];
    error = getnameinfo((struct sockaddr*)&loopback, sizeof(loopback), host, sizeof(host), service,
                        sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV);
    CHECK(error == 0 && strcmp(host, "127.0.0.1") == 0 && strcmp(service, "8080") == 0,
          "getnameinfo(127.0.0.1:8080, numeric) gives 127.0.0.1 8080");

    /* The host name three ways. */
    char from_call[256] = "", from_proc[256];
    struct utsname name;
    CHECK(gethostname(from_call, sizeof(from_call)) == 0 && from_call[0] != '\0',
          "gethostname gives a name");
    CHECK(uname(&name) == 0 && strcmp(name.nodename, from_call) == 0,
          "uname's nodename is gethostname's name");
    proc_hostname(from_proc, sizeof(from_proc));
    CHECK(strcmp(from_proc, from_call) == 0, "/proc/sys/kernel/hostname is gethostname's name");
    return verdict_finish();
}
