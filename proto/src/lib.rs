//! The Beckon gRPC contract. The `.proto` files under `proto/` are the source of truth; this
//! crate only compiles them.

/// `beckon.invite.v1`: jobs, candidates, invites, members and API keys.
pub mod invite {
    pub mod v1 {
        tonic::include_proto!("beckon.invite.v1");
    }
}

/// `beckon.notify.v1`: email delivery and team notifications.
pub mod notify {
    pub mod v1 {
        tonic::include_proto!("beckon.notify.v1");
    }
}

/// Encoded `FileDescriptorSet` of every Beckon proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/beckon_descriptor.bin"));
