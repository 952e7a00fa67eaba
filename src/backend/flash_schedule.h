// flash_schedule.h — the index arithmetic of the CUDA FlashAttention-2 kernels
// (src/backend/cuda/attention_flash_kernels.cuh): which tiles a thread block visits
// under the causal mask, which rows of a tile exist, which (query, key) pairs
// are kept, the kv head of a query head, and where each element of an
// mma.m16n8k16 fragment sits in its tile. The kernels compute every index
// through these functions, and tests/test_flash_schedule.c checks them on the
// host against brute-force enumeration.
//
// The one design decision: the functions are plain C `static inline`, marked
// SLM_FLASH_FN, which is __host__ __device__ under nvcc and nothing in C, so
// the kernel and its host test run the same code.
#pragma once

#if defined(__CUDACC__)
#define SLM_FLASH_FN __host__ __device__ static inline
#else
#define SLM_FLASH_FN static inline
#endif

// ---- heads, tiles and the causal mask ---------------------------------------

// The kv head that query head h reads: H query heads share KVH kv heads in
// groups of H/KVH consecutive heads (grouped-query attention).
SLM_FLASH_FN int slm_flash_kv_head(int h, int H, int KVH) { return h / (H / KVH); }

// Tiles of `tile` rows that cover T rows (the last one cut at T).
SLM_FLASH_FN int slm_flash_n_tiles(int T, int tile) { return (T + tile - 1) / tile; }

// Rows of the tile starting at row0 that lie inside the sequence (1 … tile).
SLM_FLASH_FN int slm_flash_tile_rows(int T, int row0, int tile) { return T - row0 < tile ? T - row0 : tile; }

// Whether query position q keeps key position kpos: causal (kpos ≤ q), both
// inside the sequence. Every other score is masked to −∞ (probability 0).
SLM_FLASH_FN int slm_flash_visible(int q, int kpos, int T) { return q < T && kpos <= q; }

// Forward: the query tile a thread block takes for its blockIdx.x. Reversed, so
// the tiles at the end of the sequence, which see the most keys, start first
// and the short ones fill in behind them.
SLM_FLASH_FN int slm_flash_fwd_q_tile(int block, int n_q_tiles) { return n_q_tiles - 1 - block; }

// Forward: key tiles (of bc keys, from key 0) that the query tile starting at
// q0 (br rows) visits: every tile up to the one holding its last query's
// position, cut at T. Tiles past it hold only masked keys.
SLM_FLASH_FN int slm_flash_fwd_kv_tiles(int q0, int br, int bc, int T) {
    int last_q = (q0 + br < T ? q0 + br : T) - 1;
    return last_q / bc + 1;
}

// Backward: the first query tile (of br rows) that the key tile starting at
// k0 visits; it then visits every query tile to the end of the sequence.
// Earlier query tiles end before k0, so all their pairs are masked.
SLM_FLASH_FN int slm_flash_bwd_first_q_tile(int k0, int br) { return k0 / br; }

// Whether a tile of br queries from q0 against bc keys from k0 straddles the
// diagonal or the sequence's end, so its scores need the mask at all. A tile
// strictly below the diagonal and inside T keeps every pair.
SLM_FLASH_FN int slm_flash_tile_needs_mask(int q0, int br, int k0, int bc, int T) {
    return k0 + bc - 1 > q0 || q0 + br > T || k0 + bc > T;
}

// ---- mma.sync.aligned.m16n8k16 (bf16 in, fp32 accumulate) fragments ---------
// A warp's 32 lanes each hold: 8 elements of A (16×16, row-major), in four
// 32-bit registers of two bf16 each; 4 of B (16×8, k × n, "col": stored with k
// fastest), in two registers; 4 fp32 of C/D (16×8). Within a register, the
// element with the smaller index is the low half. PTX ISA, "Matrix fragments
// for mma.m16n8k16 with floating point type". lane = 4·group + quad position.

// A element i (0 … 7) of a lane: row, column of the 16×16 tile.
SLM_FLASH_FN int slm_flash_frag_a_row(int lane, int i) { return (lane >> 2) + ((i >> 1) & 1) * 8; }
SLM_FLASH_FN int slm_flash_frag_a_col(int lane, int i) { return (lane & 3) * 2 + (i & 1) + (i >> 2) * 8; }

// B element i (0 … 3): k (row of the 16×8 tile) and n (its column).
SLM_FLASH_FN int slm_flash_frag_b_k(int lane, int i) { return (lane & 3) * 2 + (i & 1) + (i >> 1) * 8; }
SLM_FLASH_FN int slm_flash_frag_b_n(int lane, int i) {
    (void)i;  // the same column for all four
    return lane >> 2;
}

// C/D element i (0 … 3): row, column of the 16×8 tile.
SLM_FLASH_FN int slm_flash_frag_c_row(int lane, int i) { return (lane >> 2) + (i >> 1) * 8; }
SLM_FLASH_FN int slm_flash_frag_c_col(int lane, int i) { return (lane & 3) * 2 + (i & 1); }

// A product's C fragments become the next product's A operand without moving
// between lanes (the P·V of the forward): A element i of the 16×16 k-slice j
// is C element (i & 3) of the 16×8 n-tile 2j + (i >> 2), the same (row,
// column) in the same lane. These give that n-tile (0 or 1 within the pair)
// and that C element.
SLM_FLASH_FN int slm_flash_c_to_a_tile(int i) { return i >> 2; }
SLM_FLASH_FN int slm_flash_c_to_a_elem(int i) { return i & 3; }

// ---- ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16 -------------------------
// Lanes 8m … 8m+7 give the addresses of rows 0 … 7 of 8×8 matrix m (16 bytes
// each); every lane receives in register m two elements of matrix m: without
// .trans, (row lane>>2, columns 2·(lane&3) and +1) of the matrix as stored; with
// .trans, (rows 2·(lane&3) and +1, column lane>>2). These give the (row,
// column) of a 16×16 block in shared memory whose address a lane supplies.

// A fragment of a 16×16 row-major tile (no .trans): matrix m is rows
// 8·(m&1) …, columns 8·(m>>1) …, so registers come out in A's order.
SLM_FLASH_FN int slm_flash_ldm_a_row(int lane) { return ((lane >> 3) & 1) * 8 + (lane & 7); }
SLM_FLASH_FN int slm_flash_ldm_a_col(int lane) { return (lane >> 4) * 8; }

// B fragments of two neighbouring 16×8 n-tiles from a block stored [n][k]
// (no .trans): registers 0, 1 are n-tile 0's, 2, 3 n-tile 1's. Matrix m is
// n rows 8·(m>>1) …, k columns 8·(m&1) …
SLM_FLASH_FN int slm_flash_ldm_bnk_n(int lane) { return (lane >> 4) * 8 + (lane & 7); }
SLM_FLASH_FN int slm_flash_ldm_bnk_k(int lane) { return ((lane >> 3) & 1) * 8; }

// The same from a block stored [k][n] (.trans): matrix m is k rows 8·(m&1) …,
// n columns 8·(m>>1) …
SLM_FLASH_FN int slm_flash_ldm_bkn_k(int lane) { return ((lane >> 3) & 1) * 8 + (lane & 7); }
SLM_FLASH_FN int slm_flash_ldm_bkn_n(int lane) { return (lane >> 4) * 8; }
