package dev.triage.records;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The job's signature on the results it writes (HMAC-SHA256 of the record's value, in the header
 * {@value #HEADER}), checked when the results topic is read back as customer history: with a key, a
 * record that anyone else wrote to the topic (no header, a wrong one, or a changed value) is no
 * history, so it cannot forge repeat contacts (the repeat-contact priority rule) or put text into a
 * customer's context. Without a key ({@link #none()}), the history is as trustworthy as the topic's
 * write ACL (docs/security.md).
 *
 * <p>Only the key file's path travels in the job graph; the key is read where it is used (the task
 * managers), like {@code llm.api-key-file}. Thread-safe: each thread gets its own {@link Mac}.
 */
public final class ResultSignature implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The Kafka header that carries the signature. */
    public static final String HEADER = "triage-mac";

    /** A shorter key is refused: HMAC-SHA256 wants at least its output's 32 bytes. */
    public static final int MIN_KEY_BYTES = 32;

    private static final String ALGORITHM = "HmacSHA256";

    private final String keyFile;
    private transient ThreadLocal<Mac> mac;

    private ResultSignature(String keyFile) {
        this.keyFile = keyFile;
    }

    /** No signing, no checking. */
    public static ResultSignature none() {
        return new ResultSignature(null);
    }

    /** Signs and checks with the key in {@code keyFile}; none when it is null or blank. */
    public static ResultSignature withKeyFile(String keyFile) {
        return keyFile == null || keyFile.isBlank() ? none() : new ResultSignature(keyFile);
    }

    public boolean enabled() {
        return keyFile != null;
    }

    /**
     * Reads the key now, so a missing or short key fails the submission rather than the first
     * record. The message names the file, never its content.
     */
    public ResultSignature checked() {
        if (enabled()) {
            key();
        }
        return this;
    }

    /** The signature of {@code value}. */
    public byte[] sign(byte[] value) {
        return mac().doFinal(value);
    }

    /** Whether {@code signature} is this job's signature of {@code value} (constant time). */
    public boolean verifies(byte[] value, byte[] signature) {
        return signature != null && value != null && MessageDigest.isEqual(sign(value), signature);
    }

    private Mac mac() {
        if (mac == null) {
            SecretKeySpec key = key();
            mac =
                    ThreadLocal.withInitial(
                            () -> {
                                try {
                                    Mac m = Mac.getInstance(ALGORITHM);
                                    m.init(key);
                                    return m;
                                } catch (GeneralSecurityException e) {
                                    throw new IllegalStateException(ALGORITHM, e);
                                }
                            });
        }
        return mac.get();
    }

    private SecretKeySpec key() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Path.of(keyFile));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read customers.history-key-file " + keyFile, e);
        }
        if (bytes.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException(
                    "customers.history-key-file "
                            + keyFile
                            + " holds "
                            + bytes.length
                            + " bytes; at least "
                            + MIN_KEY_BYTES
                            + " are needed (e.g. head -c 32 /dev/urandom > file)");
        }
        return new SecretKeySpec(bytes, ALGORITHM);
    }
}
