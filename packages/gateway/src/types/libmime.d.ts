/** The part of libmime 5.6.5 the gateway uses (the package ships no types). */
declare module 'libmime' {
  const libmime: {
    parseHeaderValue(value: string): { value: string; params: Record<string, string> };
    decodeWords(value: string): string;
  };
  export default libmime;
}
