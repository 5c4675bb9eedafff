import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * How fast this machine's JDK computes the SHA-256 of a file, as the relay does while it delivers: 256 KiB reads
 * into one MessageDigest. A delivery that records each file's SHA-256 (the receipt's) cannot end before its hash,
 * and one stream's SHA-256 runs on one core, so this is the ceiling of any such delivery of the file. Prints the
 * seconds of a first pass in a fresh JVM (the JIT cold, as in a relay's first delivery) and of the best of two more.
 * Run by bench/deliver-1gib-file.sh with the JDK's source launcher: java bench/Sha256Rate.java FILE
 */
public class Sha256Rate {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        double cold = pass(file);
        double warm = Math.min(pass(file), pass(file));
        System.out.printf("%.3f %.3f%n", cold, warm);
    }

    private static double pass(Path file) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[256 * 1024];
        long start = System.nanoTime();
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                sha256.update(buffer, 0, n);
            }
        }
        sha256.digest();
        return (System.nanoTime() - start) / 1e9;
    }
}
