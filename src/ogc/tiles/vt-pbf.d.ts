/** vt-pbf ships no types: the one function used here, with geojson-vt's tile shape. */
declare module 'vt-pbf' {
  export interface VtFeature {
    id?: number;
    /** 1 point, 2 line, 3 polygon. */
    type: 1 | 2 | 3;
    /** Points: [[x, y], …]; lines and polygon rings: [[[x, y], …], …] (rings closed), in tile units. */
    geometry: number[][] | number[][][];
    tags: Record<string, string | number | boolean | null>;
  }
  export function fromGeojsonVt(
    layers: Record<string, { features: VtFeature[] }>,
    options?: { version?: number; extent?: number },
  ): Uint8Array;
}
