/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * scap_fill_net.h - I/O vectors, socket addresses and socket tuples (part of scap_fill.h).
 *
 * Layouts written (libs' PT_SOCKADDR / PT_SOCKTUPLE):
 *   sockaddr  AF_INET  family(1) ip(4, network order) port(2, host order)            7 bytes
 *             AF_INET6 family(1) ip(16) port(2)                                       19 bytes
 *             AF_UNIX  family(1) path (NUL-terminated, '@' + name for abstract ones)
 *   tuple     AF_INET  family(1) sip(4) sport(2) dip(4) dport(2)                      13 bytes
 *             AF_INET6 family(1) sip(16) sport(2) dip(16) dport(2)                    37 bytes
 *             AF_UNIX  family(1) first sock(8) second sock(8) path: outbound the peer
 *                      comes first and the path is the peer's, inbound the local sock
 *                      comes first and the path is the local one.
 * Outbound tuples go from the local address to the peer, inbound ones the other way.
 *
 * The tmp area holds: iovecs at 0 (SCAP_MAX_IOV * 16 bytes), a msghdr at 1024, a user
 * sockaddr copy at 2048 (128 bytes + NUL).
 */
#ifndef SCAP_FILL_NET_H
#define SCAP_FILL_NET_H

#define SCAP_TMP_IOV 0
#define SCAP_TMP_MSG 1024
#define SCAP_TMP_SA 2048
#define SCAP_SA_MAX 128 /* sizeof(struct sockaddr_storage) */

SCAP_INLINE __u16 scap_ntohs(__u16 v)
{
	return (__u16)((v >> 8) | (v << 8));
}

/* ------------------------------------------------------------------------------- iovecs */
/* The iovec walks are subprograms of their own (BPF global functions, checked once). */

/* Copy up to SCAP_MAX_IOV iovecs of a user array to tmp; how many were copied. */
SCAP_INLINE __u32 scap_read_iov(struct scap_fill *f, __u64 iov, __u64 cnt)
{
	if (!iov || !cnt)
		return 0;
	if (cnt > SCAP_MAX_IOV)
		cnt = SCAP_MAX_IOV;
	if (SCAP_READ_USER(scap_tmp(f, SCAP_TMP_IOV), SCAP_BOUND(cnt * 16, SCAP_MAX_IOV * 32 - 1),
			   (const void *)iov))
		return 0;
	return (__u32)cnt;
}

SCAP_INLINE __u64 scap_iov_len_at(struct scap_fill *f, __u32 i)
{
	return *(__u64 *)scap_tmp(f, SCAP_TMP_IOV + 16 * (i & (SCAP_MAX_IOV - 1)) + 8);
}

SCAP_INLINE __u64 scap_iov_base_at(struct scap_fill *f, __u32 i)
{
	return *(__u64 *)scap_tmp(f, SCAP_TMP_IOV + 16 * (i & (SCAP_MAX_IOV - 1)));
}

/* Sum of iov_len of a user iovec array, capped by the cap operand when given. */
SCAP_SUBPROG __u64 scap_iov_total(struct scap_state *s, __u64 iov, __u64 cnt, __u8 capop)
{
	struct scap_fill fv, *f = &fv;
	__u64 sum = 0;
	__s64 cap;
	__u32 i, n;

	if (!s || !scap_fill_view(f, s))
		return 0;
	n = scap_read_iov(f, iov, cnt);
	for (i = 0; i < SCAP_MAX_IOV; i++) {
		if (i >= n)
			break;
		sum += scap_iov_len_at(f, i);
	}
	if (capop != SCAP_OP_NONE) {
		cap = (__s64)scap_operand(f, capop);
		if (cap >= 0 && sum > (__u64)cap)
			sum = (__u64)cap;
	}
	return sum;
}

/* The bytes of a user iovec array at buffer offset off, up to its total (capped by capop)
 * and the snaplen; how many were written. */
SCAP_SUBPROG __u32 scap_put_iov(struct scap_state *s, __u32 off, __u64 iov, __u64 cnt,
				__u8 capop)
{
	struct scap_fill fv, *f = &fv;
	__u32 n, i, done = 0;
	__u64 want, len;

	if (!s || off >= SCAP_HALF || !scap_fill_view(f, s))
		return 0;
	if (capop != SCAP_OP_NONE && (__s64)scap_operand(f, capop) < 0)
		return 0;
	want = scap_iov_total(s, iov, cnt, capop);
	n = scap_read_iov(f, iov, cnt);
	if (want > s->snaplen)
		want = s->snaplen;
	for (i = 0; i < SCAP_MAX_IOV; i++) {
		if (i >= n || done >= want)
			break;
		len = scap_iov_len_at(f, i);
		if (len > want - done)
			len = want - done;
		if (SCAP_READ_USER(scap_at2(f, off, done), SCAP_BOUND(len, SCAP_HALF_MASK),
				   (const void *)scap_iov_base_at(f, i)))
			break;
		done += (__u32)len & SCAP_HALF_MASK;
	}
	return done;
}

/* Copy a user msghdr to tmp; 0 on failure. */
SCAP_INLINE int scap_read_msghdr(struct scap_fill *f, __u64 msg)
{
	return msg && !SCAP_READ_USER(scap_tmp(f, SCAP_TMP_MSG), 56, (const void *)msg);
}

SCAP_INLINE __u64 scap_msg_field(struct scap_fill *f, __u32 byte_off)
{
	return *(__u64 *)scap_tmp(f, SCAP_TMP_MSG + (byte_off & 63));
}

SCAP_INLINE __u64 scap_msg_iov_total(struct scap_fill *f, __u64 msg, __u8 capop)
{
	if (!scap_read_msghdr(f, msg))
		return 0;
	/* struct user_msghdr: msg_iov at 16, msg_iovlen at 24 */
	return scap_iov_total(f->s, scap_msg_field(f, 16), scap_msg_field(f, 24), capop);
}

SCAP_INLINE __u32 scap_put_msg_iov(struct scap_fill *f, __u32 off, __u64 msg, __u8 capop)
{
	if (!scap_read_msghdr(f, msg))
		return 0;
	return scap_put_iov(f->s, off, scap_msg_field(f, 16), scap_msg_field(f, 24), capop);
}

/* ----------------------------------------------------------------------------- addresses */

/* Copy a user sockaddr of len bytes to tmp, NUL-terminated; 0 on failure. */
SCAP_INLINE int scap_copy_sockaddr(struct scap_fill *f, __u64 uaddr, __s64 len)
{
	__u8 *sa = scap_tmp(f, SCAP_TMP_SA);

	if (!uaddr || len <= 0 || len > SCAP_SA_MAX)
		return 0;
	if (SCAP_READ_USER(sa, SCAP_BOUND(len - 1, SCAP_SA_MAX - 1) + 1, (const void *)uaddr))
		return 0;
	sa[SCAP_BOUND(len, 255)] = 0; /* len <= 128: the tmp copy has room for the NUL */
	return 1;
}

/* A unix socket path at p from the kernel string at path ('@' + name when abstract). */
SCAP_INLINE __u32 scap_put_unix_path(__u8 *p, const __u8 *path, int abstract)
{
	long n;

	if (abstract) {
		p[0] = '@';
		n = SCAP_READ_KERNEL_STR(p + 1, SCAP_UNIX_PATH_MAX - 1, path + 1);
		return n > 0 ? (__u32)n + 1 : 0;
	}
	n = SCAP_READ_KERNEL_STR(p, SCAP_UNIX_PATH_MAX, path);
	if (n <= 0) {
		p[0] = 0;
		return 1;
	}
	return (__u32)n;
}

/* PT_SOCKADDR of a user sockaddr. */
SCAP_INLINE __u32 scap_put_sockaddr(struct scap_fill *f, __u32 off, __u64 uaddr, __s64 len)
{
	__u8 *sa = scap_tmp(f, SCAP_TMP_SA), *p = scap_at(f, off);
	__u16 family;

	if (!scap_copy_sockaddr(f, uaddr, len))
		return 0;
	family = *(__u16 *)sa;
	switch (family) {
	case SCAP_AF_INET:
		p[0] = SCAP_AF_INET;
		*(__u32 *)(p + 1) = *(__u32 *)(sa + 4);
		*(__u16 *)(p + 5) = scap_ntohs(*(__u16 *)(sa + 2));
		return 7;
	case SCAP_AF_INET6:
		p[0] = SCAP_AF_INET6;
		*(__u64 *)(p + 1) = *(__u64 *)(sa + 8);
		*(__u64 *)(p + 9) = *(__u64 *)(sa + 16);
		*(__u16 *)(p + 17) = scap_ntohs(*(__u16 *)(sa + 2));
		return 19;
	case SCAP_AF_UNIX:
		p[0] = SCAP_AF_UNIX;
		return 1 + scap_put_unix_path(p + 1, sa + 2, sa[2] == 0 && len > 3);
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------------------------- tuples */

/* The name a unix socket was bound to, written at p. */
SCAP_INLINE __u32 scap_put_unix_sock_path(__u8 *p, struct sock *sk)
{
	struct unix_address *addr = sk ? SCAP_KREAD((struct unix_sock *)sk, addr) : 0;
	const __u8 *path;
	int len;

	if (!addr) {
		p[0] = 0;
		return 1;
	}
	len = SCAP_KREAD(addr, len);
	path = (const __u8 *)SCAP_KADDR(addr, name) + 2; /* past sun_family */
	if (len <= 2) {
		p[0] = 0;
		return 1;
	}
	{
		__u8 first = 0;

		SCAP_READ_KERNEL(&first, 1, path);
		return scap_put_unix_path(p, path, first == 0);
	}
}

/*
 * PT_SOCKTUPLE of socket sk. user_sa: the peer comes from the sockaddr copied to tmp
 * (scap_copy_sockaddr), else from the kernel socket. inbound: peer -> local.
 */
SCAP_INLINE __u32 scap_put_tuple(struct scap_fill *f, __u32 off, struct sock *sk, int user_sa,
				 __s64 sa_len, int inbound)
{
	__u8 *p = scap_at(f, off), *sa = scap_tmp(f, SCAP_TMP_SA);
	__u16 family = SCAP_KREAD(sk, __sk_common.skc_family);
	__u16 lport, pport;

	lport = scap_ntohs(SCAP_KREAD((struct inet_sock *)sk, inet_sport));
	if (family == SCAP_AF_INET) {
		__u32 lip = SCAP_KREAD(sk, __sk_common.skc_rcv_saddr), pip;

		if (!lip)
			lip = SCAP_KREAD((struct inet_sock *)sk, inet_saddr);
		if (user_sa) {
			pip = *(__u32 *)(sa + 4);
			pport = scap_ntohs(*(__u16 *)(sa + 2));
		} else {
			pip = SCAP_KREAD(sk, __sk_common.skc_daddr);
			pport = scap_ntohs(SCAP_KREAD(sk, __sk_common.skc_dport));
		}
		p[0] = SCAP_AF_INET;
		*(__u32 *)(p + 1) = inbound ? pip : lip;
		*(__u16 *)(p + 5) = inbound ? pport : lport;
		*(__u32 *)(p + 7) = inbound ? lip : pip;
		*(__u16 *)(p + 11) = inbound ? lport : pport;
		return 13;
	}
	if (family == SCAP_AF_INET6) {
		__u8 *lp = p + (inbound ? 19 : 1), *pp = p + (inbound ? 1 : 19);
		__u64 l0, l1;

		SCAP_READ_KERNEL(lp, 16, SCAP_KADDR(sk, __sk_common.skc_v6_rcv_saddr));
		l0 = *(__u64 *)lp;
		l1 = *(__u64 *)(lp + 8);
		if (!(l0 | l1)) {
			struct ipv6_pinfo *np = SCAP_KREAD((struct inet_sock *)sk, pinet6);

			if (np)
				SCAP_READ_KERNEL(lp, 16, SCAP_KADDR(np, saddr));
		}
		if (user_sa) {
			*(__u64 *)pp = *(__u64 *)(sa + 8);
			*(__u64 *)(pp + 8) = *(__u64 *)(sa + 16);
			pport = scap_ntohs(*(__u16 *)(sa + 2));
		} else {
			SCAP_READ_KERNEL(pp, 16, SCAP_KADDR(sk, __sk_common.skc_v6_daddr));
			pport = scap_ntohs(SCAP_KREAD(sk, __sk_common.skc_dport));
		}
		p[0] = SCAP_AF_INET6;
		*(__u16 *)(p + 17) = inbound ? pport : lport;
		*(__u16 *)(p + 35) = inbound ? lport : pport;
		return 37;
	}
	if (family == SCAP_AF_UNIX) {
		struct sock *peer = SCAP_KREAD((struct unix_sock *)sk, peer);

		p[0] = SCAP_AF_UNIX;
		*(__u64 *)(p + 1) = (__u64)(inbound ? sk : peer);
		*(__u64 *)(p + 9) = (__u64)(inbound ? peer : sk);
		if (inbound)
			return 17 + scap_put_unix_sock_path(p + 17, sk);
		if (user_sa)
			return 17 + scap_put_unix_path(p + 17, sa + 2, sa[2] == 0 && sa_len > 3);
		return 17 + scap_put_unix_sock_path(p + 17, peer);
	}
	return 0;
}

/* Tuple of socket fd whose peer is a user sockaddr (connect, sendto, recvfrom). */
SCAP_INLINE __u32 scap_put_tuple_user(struct scap_fill *f, __u32 off, __s32 fd, __u64 uaddr,
				      __s64 len, int inbound)
{
	struct sock *sk;

	if (!uaddr || len <= 0 || !scap_copy_sockaddr(f, uaddr, len))
		return 0;
	sk = scap_fd_sock(f, fd);
	return sk ? scap_put_tuple(f, off, sk, 1, len, inbound) : 0;
}

/* Tuple of socket fd from the kernel socket alone (accept). */
SCAP_INLINE __u32 scap_put_tuple_sock(struct scap_fill *f, __u32 off, __s32 fd)
{
	struct sock *sk = scap_fd_sock(f, fd);

	return sk ? scap_put_tuple(f, off, sk, 0, 0, 1) : 0;
}

/* Tuple whose peer is the msg_name of a user msghdr (sendmsg, recvmsg). */
SCAP_INLINE __u32 scap_put_msg_tuple(struct scap_fill *f, __u32 off, __s32 fd, __u64 msg,
				     int inbound)
{
	if (!scap_read_msghdr(f, msg))
		return 0;
	/* struct user_msghdr: msg_name at 0, msg_namelen (int) at 8 */
	return scap_put_tuple_user(f, off, fd, scap_msg_field(f, 0),
				   (__s64)(__s32)scap_msg_field(f, 8), inbound);
}

#endif /* SCAP_FILL_NET_H */
