/** How an inbound message is compared: case, accents, surrounding and repeated spaces do not count. */
export function matchKey(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}
