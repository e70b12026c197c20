/* floor.c - the least a client on xmppsend's stack can cost: it is linked
 * with GnuTLS, libxml2 and ICU as xmppsend is (bench/run.sh passes
 * --no-as-needed, so the loader maps and relocates all of them and runs
 * their constructors) and exits at once.  Part a2 of the benchmark runs
 * it with the clients: what xmppsend costs above it is what its own work
 * (TLS, XMPP, SASL) costs. */
int main(void)
{
    return 0;
}
