package dev.triage.records;

import java.util.regex.Pattern;

/**
 * Keys scoped by tenant. Without a tenant a key is the id itself, as before tenants existed, so
 * state written then (sessions, customers) restores under the same keys. With one it is {@code
 * tenant/id}: a tenant id is a plain name ({@link #VALID}) and never contains {@code /}, so no two
 * (tenant, id) pairs share a key, and no tenant's key is an untenanted id with a slash in it unless
 * that id names the tenant (ids are the customer's; tenant ids are the operator's: do not mix
 * tenanted and untenanted tickets on one topic).
 */
public final class Tenants {

    /** A tenant id: 1 to 64 letters, digits, dots, underscores or hyphens. */
    public static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private Tenants() {}

    /** The key of {@code id} within {@code tenant} (null: no tenant). */
    public static String key(String tenant, String id) {
        return tenant == null || id == null ? id : tenant + "/" + id;
    }

    public static boolean valid(String tenant) {
        return VALID.matcher(tenant).matches();
    }
}
