// test_flash_schedule.c — the index arithmetic of the CUDA flash attention
// kernels (src/backend/flash_schedule.h), checked on the host against brute
// force, for T = 1, 63, 64, 65, 1000, 1024 and tiles of 16, 64 and 128:
//   - the forward's query tiles: the block → tile map is a permutation, and each
//     tile visits exactly the key tiles holding a visible (query, key) pair;
//   - the backward's key tiles visit exactly the query tiles holding one;
//   - tile rows are the rows inside the sequence; tiles said to need no mask
//     have every pair visible;
//   - the kv head of each query head for GQA ratios 1, 2, 4, 8 and 3;
//   - the mma.m16n8k16 fragments: spot elements as the PTX ISA draws them;
//     A, B and C maps each place every element of their tile exactly once over
//     32 lanes, pairs of elements a kernel loads
//     with one 32-bit load are neighbours in memory, and the C → A reuse puts
//     A element i of a k-slice where the named C element of the pair sits;
//   - the row addresses the kernels give ldmatrix.x4 (and .trans): emulating
//     the instruction, each yields exactly the A or two B fragments above.
#include <string.h>

#include "backend/flash_schedule.h"
#include "testutil.h"

static const int Ts[] = {1, 63, 64, 65, 1000, 1024};
static const int tiles[] = {16, 64, 128};
enum { NT = sizeof Ts / sizeof Ts[0], NTILE = sizeof tiles / sizeof tiles[0] };

// Whether the tile of br queries from q0 and bc keys from k0 holds a visible pair.
static int tile_has_visible(int q0, int br, int k0, int bc, int T) {
    for (int q = q0; q < q0 + br; q++)
        for (int kp = k0; kp < k0 + bc; kp++)
            if (q < T && kp <= q) return 1;
    return 0;
}

static void check_forward(int T, int br, int bc) {
    int n_q = slm_flash_n_tiles(T, br), n_k = slm_flash_n_tiles(T, bc), ok = n_q * br >= T && (n_q - 1) * br < T;
    char seen[1100] = {0};
    for (int blk = 0; blk < n_q; blk++) {
        int i = slm_flash_fwd_q_tile(blk, n_q);
        ok &= i >= 0 && i < n_q && !seen[i];
        if (i >= 0 && i < n_q) seen[i] = 1;
    }
    for (int i = 0; i < n_q; i++) {
        int q0 = i * br, visits = slm_flash_fwd_kv_tiles(q0, br, bc, T);
        ok &= visits >= 1 && visits <= n_k;
        for (int j = 0; j < n_k; j++) ok &= (j < visits) == tile_has_visible(q0, br, j * bc, bc, T);
    }
    t_check(ok, "forward [T=%d br=%d bc=%d]: %d query tiles, each visits exactly the key tiles it sees", T, br, bc,
            n_q);
}

static void check_backward(int T, int br, int bc) {
    int n_q = slm_flash_n_tiles(T, br), n_k = slm_flash_n_tiles(T, bc), ok = 1;
    long pairs = 0;
    for (int j = 0; j < n_k; j++) {
        int k0 = j * bc, first = slm_flash_bwd_first_q_tile(k0, br);
        for (int i = 0; i < n_q; i++) ok &= (i >= first) == tile_has_visible(i * br, br, k0, bc, T);
        pairs += n_q - first;
    }
    t_check(ok,
            "backward [T=%d br=%d bc=%d]: %d key tiles visit exactly the query tiles that see them (%ld tile pairs)", T,
            br, bc, n_k, pairs);
}

static void check_rows_and_mask(int T, int br, int bc) {
    int ok = 1;
    for (int q0 = 0; q0 < T; q0 += br) {
        int rows = slm_flash_tile_rows(T, q0, br), inside = 0;
        for (int r = 0; r < br; r++) inside += q0 + r < T;
        ok &= rows == inside;
        for (int k0 = 0; k0 < T; k0 += bc) {
            if (slm_flash_tile_needs_mask(q0, br, k0, bc, T)) continue;
            for (int q = q0; q < q0 + br; q++)
                for (int kp = k0; kp < k0 + bc; kp++) ok &= slm_flash_visible(q, kp, T) && q < T && kp < T && kp <= q;
        }
    }
    for (int q = 0; q < T + 3; q++)
        for (int kp = 0; kp < T + 3 && kp < 70; kp++) ok &= slm_flash_visible(q, kp, T) == (q < T && kp <= q);
    t_check(ok, "rows and mask [T=%d br=%d bc=%d]: tail rows counted, unmasked tiles hold only visible pairs", T, br,
            bc);
}

static void check_kv_heads(void) {
    static const int shapes[][2] = {{16, 16}, {16, 8}, {16, 4}, {32, 4}, {12, 4}, {2, 1}};
    int ok = 1;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int H = shapes[s][0], KVH = shapes[s][1], count[64] = {0};
        for (int h = 0; h < H; h++) {
            int kvh = slm_flash_kv_head(h, H, KVH);
            ok &= kvh >= 0 && kvh < KVH && (h == 0 || kvh >= slm_flash_kv_head(h - 1, H, KVH));
            if (kvh >= 0 && kvh < KVH) count[kvh]++;
        }
        for (int kvh = 0; kvh < KVH; kvh++) ok &= count[kvh] == H / KVH;
    }
    t_check(ok, "kv head of a query head: consecutive groups of H/KVH for ratios 1, 2, 4, 8, 3");
}

// Each (row, col) of a rows×cols tile is held by exactly one (lane, element).
typedef int (*frag_fn)(int lane, int i);
static int covers_once(frag_fn row, frag_fn col, int rows, int cols, int elems) {
    int count[16][16];
    memset(count, 0, sizeof count);
    for (int lane = 0; lane < 32; lane++)
        for (int i = 0; i < elems; i++) {
            int r = row(lane, i), c = col(lane, i);
            if (r < 0 || r >= rows || c < 0 || c >= cols) return 0;
            count[r][c]++;
        }
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            if (count[r][c] != 1) return 0;
    return 1;
}

static void check_fragments(void) {
    t_check(covers_once(slm_flash_frag_a_row, slm_flash_frag_a_col, 16, 16, 8),
            "mma A fragment: 32 lanes × 8 elements cover the 16×16 tile once");
    t_check(covers_once(slm_flash_frag_b_k, slm_flash_frag_b_n, 16, 8, 4),
            "mma B fragment: 32 lanes × 4 elements cover the 16×8 (k × n) tile once");
    t_check(covers_once(slm_flash_frag_c_row, slm_flash_frag_c_col, 16, 8, 4),
            "mma C fragment: 32 lanes × 4 elements cover the 16×8 tile once");
    // Spot values read off the PTX ISA's figures of the m16n8k16 fragments
    // (lane 0 and lane 31 = group 7, position 3): {lane, element, row, col}.
    static const int a_pts[][4] = {{0, 0, 0, 0}, {0, 1, 0, 1}, {0, 2, 8, 0}, {0, 3, 8, 1},  {0, 4, 0, 8},
                                   {0, 5, 0, 9}, {0, 6, 8, 8}, {0, 7, 8, 9}, {31, 0, 7, 6}, {31, 7, 15, 15}};
    static const int b_pts[][4] = {{0, 0, 0, 0}, {0, 2, 8, 0}, {31, 0, 6, 7}, {31, 3, 15, 7}};  // k, n
    static const int c_pts[][4] = {{0, 0, 0, 0}, {0, 3, 8, 1}, {31, 1, 7, 7}, {31, 3, 15, 7}};
    int spot = 1;
    for (int p = 0; p < 10; p++)
        spot &= slm_flash_frag_a_row(a_pts[p][0], a_pts[p][1]) == a_pts[p][2] &&
                slm_flash_frag_a_col(a_pts[p][0], a_pts[p][1]) == a_pts[p][3];
    for (int p = 0; p < 4; p++)
        spot &= slm_flash_frag_b_k(b_pts[p][0], b_pts[p][1]) == b_pts[p][2] &&
                slm_flash_frag_b_n(b_pts[p][0], b_pts[p][1]) == b_pts[p][3] &&
                slm_flash_frag_c_row(c_pts[p][0], c_pts[p][1]) == c_pts[p][2] &&
                slm_flash_frag_c_col(c_pts[p][0], c_pts[p][1]) == c_pts[p][3];
    t_check(spot, "fragment maps agree with the PTX ISA's figures at 18 spot elements");
    // One 32-bit load per register: elements 2r, 2r+1 are the low and high half
    // and must be neighbours along the contiguous dimension.
    int ok = 1;
    for (int lane = 0; lane < 32; lane++) {
        for (int r = 0; r < 4; r++)
            ok &= slm_flash_frag_a_row(lane, 2 * r) == slm_flash_frag_a_row(lane, 2 * r + 1) &&
                  slm_flash_frag_a_col(lane, 2 * r) + 1 == slm_flash_frag_a_col(lane, 2 * r + 1) &&
                  slm_flash_frag_a_col(lane, 2 * r) % 2 == 0;
        for (int r = 0; r < 2; r++)
            ok &= slm_flash_frag_b_n(lane, 2 * r) == slm_flash_frag_b_n(lane, 2 * r + 1) &&
                  slm_flash_frag_b_k(lane, 2 * r) + 1 == slm_flash_frag_b_k(lane, 2 * r + 1) &&
                  slm_flash_frag_b_k(lane, 2 * r) % 2 == 0;
        for (int r = 0; r < 2; r++)
            ok &= slm_flash_frag_c_row(lane, 2 * r) == slm_flash_frag_c_row(lane, 2 * r + 1) &&
                  slm_flash_frag_c_col(lane, 2 * r) + 1 == slm_flash_frag_c_col(lane, 2 * r + 1) &&
                  slm_flash_frag_c_col(lane, 2 * r) % 2 == 0 &&
                  slm_flash_frag_c_row(lane, 2) == slm_flash_frag_c_row(lane, 0) + 8;
    }
    t_check(ok,
            "fragment register pairs: neighbours along k (A, B) or n (C), even first column; C rows e/2 apart by 8");
    // C → A: A element i of k-slice j sits at (row, 16j + col) of the 16×16
    // product; C element c of n-tile 2j + t sits at (row, 16j + 8t + col).
    ok = 1;
    for (int lane = 0; lane < 32; lane++)
        for (int i = 0; i < 8; i++) {
            int t = slm_flash_c_to_a_tile(i), c = slm_flash_c_to_a_elem(i);
            ok &= t >= 0 && t < 2 && c >= 0 && c < 4 &&
                  slm_flash_frag_a_row(lane, i) == slm_flash_frag_c_row(lane, c) &&
                  slm_flash_frag_a_col(lane, i) == 8 * t + slm_flash_frag_c_col(lane, c) &&
                  (i % 2 == 0 || slm_flash_c_to_a_elem(i) == slm_flash_c_to_a_elem(i - 1) + 1);
        }
    t_check(ok, "C fragments of two 16×8 tiles are, in place, the A fragment of their 16×16 k-slice");
}

// ldmatrix.x4 on a 16×16 block of shared memory whose element (r, c) is coded
// 16·r + c, lane src giving the address of (row_of(src), col_of(src)) as row
// src & 7 of matrix src >> 3: the code lane L receives in half e of register
// j — without .trans, row L >> 2 of matrix j, column 2·(L & 3) + e; with
// .trans, row 2·(L & 3) + e, column L >> 2 (PTX ISA, ldmatrix).
typedef int (*lane_fn)(int lane);
static int ldsm(lane_fn row_of, lane_fn col_of, int trans, int L, int j, int e) {
    int src = 8 * j + (trans ? 2 * (L & 3) + e : L >> 2);
    return 16 * row_of(src) + col_of(src) + (trans ? L >> 2 : 2 * (L & 3) + e);
}

static void check_ldmatrix(void) {
    int ok_a = 1, ok_nk = 1, ok_kn = 1;
    for (int L = 0; L < 32; L++) {
        ok_a &= slm_flash_ldm_a_col(L) % 8 == 0 && slm_flash_ldm_bnk_k(L) % 8 == 0 && slm_flash_ldm_bkn_n(L) % 8 == 0;
        for (int j = 0; j < 4; j++)
            for (int e = 0; e < 2; e++) {
                int i = 2 * j + e, ib = 2 * (j & 1) + e, nt = j >> 1;  // A element; B element and n-tile
                ok_a &= ldsm(slm_flash_ldm_a_row, slm_flash_ldm_a_col, 0, L, j, e) ==
                        16 * slm_flash_frag_a_row(L, i) + slm_flash_frag_a_col(L, i);
                ok_nk &= ldsm(slm_flash_ldm_bnk_n, slm_flash_ldm_bnk_k, 0, L, j, e) ==
                         16 * (8 * nt + slm_flash_frag_b_n(L, ib)) + slm_flash_frag_b_k(L, ib);
                ok_kn &= ldsm(slm_flash_ldm_bkn_k, slm_flash_ldm_bkn_n, 1, L, j, e) ==
                         16 * slm_flash_frag_b_k(L, ib) + 8 * nt + slm_flash_frag_b_n(L, ib);
            }
    }
    t_check(ok_a,
            "ldmatrix.x4 with the A row addresses yields the A fragment of a 16x16 tile (rows on 16-byte columns)");
    t_check(ok_nk, "ldmatrix.x4 on a [n][k] block yields the B fragments of two neighbouring n-tiles");
    t_check(ok_kn, "ldmatrix.x4.trans on a [k][n] block yields the B fragments of two neighbouring n-tiles");
}

int main(void) {
    for (int t = 0; t < NT; t++)
        for (int a = 0; a < NTILE; a++)
            for (int c = 0; c < NTILE; c++) {
                check_forward(Ts[t], tiles[a], tiles[c]);
                check_backward(Ts[t], tiles[a], tiles[c]);
                check_rows_and_mask(Ts[t], tiles[a], tiles[c]);
            }
    check_kv_heads();
    check_fragments();
    check_ldmatrix();
    return t_finish("test_flash_schedule");
}
