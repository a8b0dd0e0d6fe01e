package dev.triage.records;

import java.util.regex.Pattern;

/**
 * Keys scoped by tenant. Without a tenant a key is the id itself, as before tenants existed, so
 * state written then (sessions, customers) restores under the same keys. With one it is the tenant,
 * {@link #SEPARATOR} and the id: ids never contain a control character (the parsers reject them),
 * so no id without a tenant is any tenant's key, and a tenant id ({@link #VALID}) never contains
 * the separator, so no two (tenant, id) pairs share a key.
 */
public final class Tenants {

    /** Between tenant and id in a key: U+001F (unit separator), a control character. */
    public static final char SEPARATOR = 0x1F;

    /** A tenant id: 1 to 64 letters, digits, dots, underscores or hyphens. */
    public static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private Tenants() {}

    /** The key of {@code id} within {@code tenant} (null: no tenant). */
    public static String key(String tenant, String id) {
        return tenant == null || id == null ? id : tenant + SEPARATOR + id;
    }

    public static boolean valid(String tenant) {
        return VALID.matcher(tenant).matches();
    }
}
