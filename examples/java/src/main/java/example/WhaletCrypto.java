package example;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/** The Whalet envelope with the JDK only (docs/WIRE.md has the recipe with every value). */
public final class WhaletCrypto {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    private WhaletCrypto() {}

    /** A PKCS#8 private key ("BEGIN PRIVATE KEY"), as in keys/demo-partner/private.pem. */
    public static PrivateKey privateKey(Path pem) throws Exception {
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der(pem)));
    }

    /** An X.509 SubjectPublicKeyInfo public key ("BEGIN PUBLIC KEY"). */
    public static PublicKey publicKey(Path pem) throws Exception {
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der(pem)));
    }

    private static byte[] der(Path pem) throws Exception {
        String text = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return Base64.getDecoder().decode(text);
    }

    /** [body.encrypt, head.keyEnc] for a body under a fresh 16-byte AES session key. */
    public static String[] sealBody(String json, PublicKey receiver) throws GeneralSecurityException {
        byte[] sessionKey = new byte[16];
        RANDOM.nextBytes(sessionKey);
        Cipher aes = Cipher.getInstance("AES/ECB/PKCS5Padding");
        aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(sessionKey, "AES"));
        String encrypt = HEX.formatHex(aes.doFinal(json.getBytes(StandardCharsets.UTF_8)));
        Cipher rsa = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        rsa.init(Cipher.ENCRYPT_MODE, receiver);
        byte[] b64 = Base64.getEncoder().encode(sessionKey); // the Base64 TEXT is encrypted, not the raw key
        return new String[] {encrypt, HEX.formatHex(rsa.doFinal(b64))};
    }

    /** The decrypted body JSON text. */
    public static String openBody(String keyEnc, String encrypt, PrivateKey own) throws GeneralSecurityException {
        Cipher rsa = Cipher.getInstance("RSA/ECB/PKCS1Padding");
        rsa.init(Cipher.DECRYPT_MODE, own);
        byte[] sessionKey = Base64.getDecoder().decode(rsa.doFinal(HEX.parseHex(keyEnc.toLowerCase())));
        Cipher aes = Cipher.getInstance("AES/ECB/PKCS5Padding");
        aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(sessionKey, "AES"));
        return new String(aes.doFinal(HEX.parseHex(encrypt.toLowerCase())), StandardCharsets.UTF_8);
    }

    public static String sign(PrivateKey key, String text) throws GeneralSecurityException {
        Signature s = Signature.getInstance("SHA1withRSA");
        s.initSign(key);
        s.update(text.getBytes(StandardCharsets.UTF_8));
        return HEX.formatHex(s.sign());
    }

    public static boolean verify(PublicKey key, String text, Object signHex) {
        if (!(signHex instanceof String hex) || !hex.matches("[0-9a-fA-F]+")) return false;
        try {
            Signature s = Signature.getInstance("SHA1withRSA");
            s.initVerify(key);
            s.update(text.getBytes(StandardCharsets.UTF_8));
            return s.verify(HEX.parseHex(hex.toLowerCase()));
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** partnerId|apiCode|version|requestNo|encrypt */
    public static String requestSignString(Map<String, Object> head, String encrypt) {
        return String.join("|", str(head, "partnerId"), str(head, "apiCode"), str(head, "version"),
                str(head, "requestNo"), encrypt);
    }

    /** partnerId|apiCode|version|requestNo|code|detail[|encrypt] */
    public static String replySignString(Map<String, Object> head, String encrypt) {
        List<String> parts = new ArrayList<>(List.of(str(head, "partnerId"), str(head, "apiCode"),
                str(head, "version"), str(head, "requestNo"), str(head, "code"), str(head, "detail")));
        if (encrypt != null && !encrypt.isEmpty()) parts.add(encrypt);
        return String.join("|", parts);
    }

    static String str(Map<String, Object> m, String k) {
        Object v = m.get(k);
        if (!(v instanceof String s)) throw new IllegalArgumentException("head." + k + " missing");
        return s;
    }
}
