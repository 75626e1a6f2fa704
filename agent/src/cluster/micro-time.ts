/**
 * metav1.MicroTime on the wire: RFC 3339 with exactly six fractional digits. kube-apiserver
 * decodes it with time.Parse(RFC3339Micro), which refuses Date#toISOString's three.
 */

/** A Date that serialises (toISOString, and so JSON.stringify) as a MicroTime. */
export class MicroTime extends Date {
  override toISOString(): string {
    // Milliseconds are all JavaScript has: the microseconds are zeros, as client-node 1.4.x sent.
    return `${super.toISOString().slice(0, -1)}000Z`;
  }
}
