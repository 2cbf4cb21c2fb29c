/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVM Express structures and constants, from the NVMe Base Specification
 * 1.4 (section numbers cite it). Shared by the NVMe driver and the emulated
 * controller; every size is checked at compile time. Little-endian hosts
 * only (the emulator and driver both run on x86-64/arm64).
 */
#ifndef PDK_NVME_SPEC_H
#define PDK_NVME_SPEC_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 3.1 Controller registers (offsets in BAR0). */
enum pdk_nvme_reg {
	PDK_NVME_REG_CAP = 0x00,   /* 64-bit */
	PDK_NVME_REG_VS = 0x08,
	PDK_NVME_REG_INTMS = 0x0c,
	PDK_NVME_REG_INTMC = 0x10,
	PDK_NVME_REG_CC = 0x14,
	PDK_NVME_REG_CSTS = 0x1c,
	PDK_NVME_REG_NSSR = 0x20,
	PDK_NVME_REG_AQA = 0x24,
	PDK_NVME_REG_ASQ = 0x28,   /* 64-bit */
	PDK_NVME_REG_ACQ = 0x30,   /* 64-bit */
	PDK_NVME_REG_CMBLOC = 0x38,
	PDK_NVME_REG_CMBSZ = 0x3c,
	PDK_NVME_REG_DBS = 0x1000, /* doorbells start here */
};

/* 3.1.1 CAP fields */
#define PDK_NVME_CAP_MQES(cap) ((uint32_t)((cap) & 0xffff))        /* 0's based */
#define PDK_NVME_CAP_CQR(cap) ((uint32_t)(((cap) >> 16) & 0x1))
#define PDK_NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff))     /* 500 ms units */
#define PDK_NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))   /* 4 << DSTRD bytes */
#define PDK_NVME_CAP_NSSRS(cap) ((uint32_t)(((cap) >> 36) & 0x1))
#define PDK_NVME_CAP_CSS(cap) ((uint32_t)(((cap) >> 37) & 0xff))
#define PDK_NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf))  /* 2^(12+x) */
#define PDK_NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xf))
#define PDK_NVME_CAP_CSS_NVM 0x1

/* 3.1.5 CC fields */
#define PDK_NVME_CC_EN (1u << 0)
#define PDK_NVME_CC_CSS_SHIFT 4
#define PDK_NVME_CC_MPS_SHIFT 7
#define PDK_NVME_CC_AMS_SHIFT 11
#define PDK_NVME_CC_SHN_SHIFT 14
#define PDK_NVME_CC_SHN_MASK (3u << 14)
#define PDK_NVME_CC_SHN_NORMAL (1u << 14)
#define PDK_NVME_CC_SHN_ABRUPT (2u << 14)
#define PDK_NVME_CC_IOSQES_SHIFT 16
#define PDK_NVME_CC_IOCQES_SHIFT 20

/* 3.1.6 CSTS fields */
#define PDK_NVME_CSTS_RDY (1u << 0)
#define PDK_NVME_CSTS_CFS (1u << 1)
#define PDK_NVME_CSTS_SHST_MASK (3u << 2)
#define PDK_NVME_CSTS_SHST_DONE (2u << 2)
#define PDK_NVME_CSTS_NSSRO (1u << 4)
#define PDK_NVME_CSTS_PP (1u << 5)

/* 3.1.8 AQA: admin queue sizes, 0's based */
#define PDK_NVME_AQA(sq, cq) ((((uint32_t)(cq) - 1) << 16) | ((uint32_t)(sq) - 1))

/* 4.2 Submission queue entry (64 bytes) */
struct pdk_nvme_cmd {
	uint8_t opc;
	uint8_t flags;      /* FUSE (bits 1:0), PSDT (bits 7:6) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	uint64_t prp1;
	uint64_t prp2;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
};
static_assert(sizeof(struct pdk_nvme_cmd) == 64, "NVMe SQE is 64 bytes (4.2)");

/* 4.6 Completion queue entry (16 bytes) */
struct pdk_nvme_cpl {
	uint32_t cdw0;
	uint32_t rsvd;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* bit 0: phase tag; bits 15:1 status field */
};
static_assert(sizeof(struct pdk_nvme_cpl) == 16, "NVMe CQE is 16 bytes (4.6)");

/* 4.6.1 Status field (without the phase bit): SC bits 8:1, SCT bits 11:9,
 * CRD 13:12, M 14, DNR 15 of the status word */
#define PDK_NVME_CPL_PHASE(st) ((st) & 1u)
#define PDK_NVME_CPL_SC(st) (((st) >> 1) & 0xffu)
#define PDK_NVME_CPL_SCT(st) (((st) >> 9) & 0x7u)
#define PDK_NVME_CPL_DNR(st) (((st) >> 15) & 1u)
#define PDK_NVME_STATUS(sct, sc) ((uint16_t)((((sct) & 7u) << 9) | (((sc) & 0xffu) << 1)))

enum pdk_nvme_sct {
	PDK_NVME_SCT_GENERIC = 0,
	PDK_NVME_SCT_COMMAND_SPECIFIC = 1,
	PDK_NVME_SCT_MEDIA = 2,
	PDK_NVME_SCT_PATH = 3,
	PDK_NVME_SCT_VENDOR = 7,
};

/* 4.6.1.2.1 Generic command status */
enum pdk_nvme_generic_sc {
	PDK_NVME_SC_SUCCESS = 0x00,
	PDK_NVME_SC_INVALID_OPCODE = 0x01,
	PDK_NVME_SC_INVALID_FIELD = 0x02,
	PDK_NVME_SC_CID_CONFLICT = 0x03,
	PDK_NVME_SC_DATA_TRANSFER_ERROR = 0x04,
	PDK_NVME_SC_ABORTED_POWER_LOSS = 0x05,
	PDK_NVME_SC_INTERNAL_ERROR = 0x06,
	PDK_NVME_SC_ABORTED_BY_REQUEST = 0x07,
	PDK_NVME_SC_ABORTED_SQ_DELETION = 0x08,
	PDK_NVME_SC_INVALID_NAMESPACE = 0x0b,
	PDK_NVME_SC_INVALID_PRP_OFFSET = 0x13,
	PDK_NVME_SC_LBA_OUT_OF_RANGE = 0x80,
	PDK_NVME_SC_CAPACITY_EXCEEDED = 0x81,
	PDK_NVME_SC_NS_NOT_READY = 0x82,
};

/* 4.6.1.2.2 Command specific status */
enum pdk_nvme_cmd_specific_sc {
	PDK_NVME_SC_COMPLETION_QUEUE_INVALID = 0x00,
	PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER = 0x01,
	PDK_NVME_SC_INVALID_QUEUE_SIZE = 0x02,
	PDK_NVME_SC_ABORT_LIMIT_EXCEEDED = 0x03,
	PDK_NVME_SC_ASYNC_EVENT_LIMIT_EXCEEDED = 0x05,
	PDK_NVME_SC_INVALID_LOG_PAGE = 0x09,
	PDK_NVME_SC_INVALID_INTERRUPT_VECTOR = 0x08,
	PDK_NVME_SC_INVALID_QUEUE_DELETION = 0x0c,
	PDK_NVME_SC_FEATURE_NOT_SAVEABLE = 0x0d,
};

/* 4.6.1.2.4 Path related status (SCT 3). The driver also uses these for
 * commands it ends itself: the host aborted it (timeout, reset budget spent,
 * queue freed) or the path to the controller is gone. */
enum pdk_nvme_path_sc {
	PDK_NVME_SC_INTERNAL_PATH_ERROR = 0x00,
	PDK_NVME_SC_CTRLR_PATHING_ERROR = 0x60,
	PDK_NVME_SC_HOST_PATHING_ERROR = 0x70,
	PDK_NVME_SC_ABORTED_BY_HOST = 0x71,
};

/* Status word bits (with the phase tag in bit 0), 4.6.1 */
#define PDK_NVME_STATUS_MORE (1u << 14)
#define PDK_NVME_STATUS_DNR (1u << 15)

/* 5 Admin command opcodes */
enum pdk_nvme_admin_opc {
	PDK_NVME_OPC_DELETE_IO_SQ = 0x00,
	PDK_NVME_OPC_CREATE_IO_SQ = 0x01,
	PDK_NVME_OPC_GET_LOG_PAGE = 0x02,
	PDK_NVME_OPC_DELETE_IO_CQ = 0x04,
	PDK_NVME_OPC_CREATE_IO_CQ = 0x05,
	PDK_NVME_OPC_IDENTIFY = 0x06,
	PDK_NVME_OPC_ABORT = 0x08,
	PDK_NVME_OPC_SET_FEATURES = 0x09,
	PDK_NVME_OPC_GET_FEATURES = 0x0a,
	PDK_NVME_OPC_ASYNC_EVENT_REQUEST = 0x0c,
	PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG = 0x7c,
};

/* 6 NVM command set opcodes */
enum pdk_nvme_nvm_opc {
	PDK_NVME_OPC_FLUSH = 0x00,
	PDK_NVME_OPC_WRITE = 0x01,
	PDK_NVME_OPC_READ = 0x02,
	PDK_NVME_OPC_WRITE_ZEROES = 0x08,
	PDK_NVME_OPC_DATASET_MANAGEMENT = 0x09,
};

/* 5.15 Identify CNS values */
enum pdk_nvme_cns {
	PDK_NVME_CNS_NS = 0x00,
	PDK_NVME_CNS_CTRLR = 0x01,
	PDK_NVME_CNS_ACTIVE_NS_LIST = 0x02,
	PDK_NVME_CNS_NS_ID_DESC_LIST = 0x03,
};

/* 5.21.1 Feature identifiers */
enum pdk_nvme_feat {
	PDK_NVME_FEAT_ARBITRATION = 0x01,
	PDK_NVME_FEAT_POWER_MANAGEMENT = 0x02,
	PDK_NVME_FEAT_TEMPERATURE_THRESHOLD = 0x04,
	PDK_NVME_FEAT_ERROR_RECOVERY = 0x05,
	PDK_NVME_FEAT_VOLATILE_WRITE_CACHE = 0x06,
	PDK_NVME_FEAT_NUMBER_OF_QUEUES = 0x07,
	PDK_NVME_FEAT_INTERRUPT_COALESCING = 0x08,
	PDK_NVME_FEAT_INTERRUPT_VECTOR_CONFIG = 0x09,
	PDK_NVME_FEAT_ASYNC_EVENT_CONFIG = 0x0b,
};

/* 5.14.1 Log page identifiers */
enum pdk_nvme_log {
	PDK_NVME_LOG_ERROR = 0x01,
	PDK_NVME_LOG_SMART = 0x02,
	PDK_NVME_LOG_FIRMWARE_SLOT = 0x03,
};

/* 5.14.1.1 Error information log entry */
struct pdk_nvme_error_log {
	uint64_t error_count;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;
	uint16_t param_error_location;
	uint64_t lba;
	uint32_t nsid;
	uint8_t vendor_specific;
	uint8_t trtype;
	uint8_t rsvd30[2];
	uint64_t cmd_specific;
	uint16_t trtype_specific;
	uint8_t rsvd42[22];
};
static_assert(sizeof(struct pdk_nvme_error_log) == 64, "error log entry (5.14.1.1)");

/* 5.14.1.2 SMART / health information (512 bytes); 128-bit counters as
 * two 64-bit halves, low first. */
struct pdk_nvme_smart_log {
	uint8_t critical_warning;
	uint16_t temperature;
	uint8_t available_spare;
	uint8_t available_spare_threshold;
	uint8_t percentage_used;
	uint8_t endurance_group_critical_warning;
	uint8_t rsvd7[25];
	uint64_t data_units_read[2];
	uint64_t data_units_written[2];
	uint64_t host_read_commands[2];
	uint64_t host_write_commands[2];
	uint64_t controller_busy_time[2];
	uint64_t power_cycles[2];
	uint64_t power_on_hours[2];
	uint64_t unsafe_shutdowns[2];
	uint64_t media_errors[2];
	uint64_t num_error_info_log_entries[2];
	uint32_t warning_temp_time;
	uint32_t critical_temp_time;
	uint16_t temp_sensor[8];
	uint8_t rsvd216[296];
} __attribute__((packed));
static_assert(sizeof(struct pdk_nvme_smart_log) == 512, "SMART log (5.14.1.2)");

/* 5.15.2.1 Power state descriptor */
struct pdk_nvme_power_state {
	uint16_t mp;
	uint8_t rsvd2;
	uint8_t flags;
	uint32_t enlat;
	uint32_t exlat;
	uint8_t rrt, rrl, rwt, rwl;
	uint16_t idlp;
	uint8_t ips;
	uint8_t rsvd19;
	uint16_t actp;
	uint8_t apw_aps;
	uint8_t rsvd23[9];
};
static_assert(sizeof(struct pdk_nvme_power_state) == 32, "power state (5.15.2.1)");

/* 5.15.2.1 Identify Controller data structure (4096 bytes) */
struct pdk_nvme_ctrlr_data {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;       /* max transfer: 2^mdts * min page size; 0 = none */
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt[3];
	uint8_t rsvd134[122];
	uint16_t oacs;      /* bit 8: Doorbell Buffer Config */
	uint8_t acl;        /* abort command limit, 0's based */
	uint8_t aerl;       /* async event request limit, 0's based */
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;       /* error log page entries, 0's based */
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint16_t mtfa;
	uint32_t hmpre;
	uint32_t hmmin;
	uint64_t tnvmcap[2];
	uint64_t unvmcap[2];
	uint32_t rpmbs;
	uint16_t edstt;
	uint8_t dsto;
	uint8_t fwug;
	uint16_t kas;
	uint16_t hctma;
	uint16_t mntmt;
	uint16_t mxtmt;
	uint32_t sanicap;
	uint32_t hmminds;
	uint16_t hmmaxd;
	uint16_t nsetidmax;
	uint16_t endgidmax;
	uint8_t anatt;
	uint8_t anacap;
	uint32_t anagrpmax;
	uint32_t nanagrpid;
	uint32_t pels;
	uint8_t rsvd356[156];
	uint8_t sqes;       /* bits 3:0 required, 7:4 max (log2) */
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;        /* number of namespaces */
	uint16_t oncs;      /* bit 3: Write Zeroes */
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t nvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t rsvd534;
	uint32_t sgls;
	uint32_t mnan;
	uint8_t rsvd544[224];
	char subnqn[256];
	uint8_t rsvd1024[1024];
	struct pdk_nvme_power_state psd[32];
	uint8_t vs[1024];
} __attribute__((packed));
static_assert(sizeof(struct pdk_nvme_ctrlr_data) == 4096, "Identify Controller (5.15.2.1)");
static_assert(offsetof(struct pdk_nvme_ctrlr_data, mdts) == 77, "MDTS at byte 77");
static_assert(offsetof(struct pdk_nvme_ctrlr_data, oacs) == 256, "OACS at byte 256");
static_assert(offsetof(struct pdk_nvme_ctrlr_data, sqes) == 512, "SQES at byte 512");
static_assert(offsetof(struct pdk_nvme_ctrlr_data, nn) == 516, "NN at byte 516");
static_assert(offsetof(struct pdk_nvme_ctrlr_data, subnqn) == 768, "SUBNQN at byte 768");

#define PDK_NVME_OACS_DBBUF (1u << 8)
#define PDK_NVME_ONCS_WRITE_ZEROES (1u << 3)
#define PDK_NVME_VWC_PRESENT 0x1

/* 5.15.2.2 LBA format */
struct pdk_nvme_lbaf {
	uint16_t ms;     /* metadata size */
	uint8_t lbads;   /* log2 of LBA data size */
	uint8_t rp;
};
static_assert(sizeof(struct pdk_nvme_lbaf) == 4, "LBA format (5.15.2.2)");

/* 5.15.2.2 Identify Namespace data structure (4096 bytes) */
struct pdk_nvme_ns_data {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;   /* 0's based */
	uint8_t flbas;   /* bits 3:0: the format in use */
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint64_t nvmcap[2];
	uint16_t npwg;
	uint16_t npwa;
	uint16_t npdg;
	uint16_t npda;
	uint16_t nows;
	uint8_t rsvd74[18];
	uint32_t anagrpid;
	uint8_t rsvd96[3];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct pdk_nvme_lbaf lbaf[16];
	uint8_t rsvd192[192];
	uint8_t vs[3712];
} __attribute__((packed));
static_assert(sizeof(struct pdk_nvme_ns_data) == 4096, "Identify Namespace (5.15.2.2)");
static_assert(offsetof(struct pdk_nvme_ns_data, lbaf) == 128, "LBAF0 at byte 128");

/*
 * Additions used by the emulated controller (lib/emu/nvme_*.c); the
 * driver may use them too.
 */

/* 3.1.1 CAP fields as the controller builds them */
#define PDK_NVME_CAP_CQR_BIT (1ull << 16)
#define PDK_NVME_CAP_TO_SHIFT 24
#define PDK_NVME_CAP_DSTRD_SHIFT 32
#define PDK_NVME_CAP_CSS_SHIFT 37
#define PDK_NVME_CAP_MPSMIN_SHIFT 48
#define PDK_NVME_CAP_MPSMAX_SHIFT 52

/* 3.1.5 CC fields, read side */
#define PDK_NVME_CC_CSS(cc) (((cc) >> PDK_NVME_CC_CSS_SHIFT) & 0x7u)
#define PDK_NVME_CC_MPS(cc) (((cc) >> PDK_NVME_CC_MPS_SHIFT) & 0xfu)
#define PDK_NVME_CC_AMS(cc) (((cc) >> PDK_NVME_CC_AMS_SHIFT) & 0x7u)
#define PDK_NVME_CC_IOSQES(cc) (((cc) >> PDK_NVME_CC_IOSQES_SHIFT) & 0xfu)
#define PDK_NVME_CC_IOCQES(cc) (((cc) >> PDK_NVME_CC_IOCQES_SHIFT) & 0xfu)

/* 3.1.6 CSTS.SHST: shutdown processing occurring */
#define PDK_NVME_CSTS_SHST_OCCURRING (1u << 2)

/* 3.1.8 AQA fields (0's based sizes) */
#define PDK_NVME_AQA_ASQS(aqa) ((aqa) & 0xfffu)
#define PDK_NVME_AQA_ACQS(aqa) (((aqa) >> 16) & 0xfffu)

/* 4.2 CDW0 flags: FUSE bits 1:0, PSDT bits 7:6 (0 = PRPs) */
#define PDK_NVME_CMD_FUSE_MASK 0x03u
#define PDK_NVME_CMD_PSDT_MASK 0xc0u

/* 4.6.1.2.1 more generic status codes */
#define PDK_NVME_SC_COMMAND_SEQUENCE_ERROR 0x0c

/* 5.2 Asynchronous event completion dword 0: type, info, log page */
#define PDK_NVME_AER_TYPE_ERROR 0x0
#define PDK_NVME_AER_TYPE_SMART 0x1
#define PDK_NVME_AER_TYPE_NOTICE 0x2
#define PDK_NVME_AER_INFO_INVALID_DB_REG 0x00   /* error: no such doorbell */
#define PDK_NVME_AER_INFO_INVALID_DB_VALUE 0x01 /* error: bad doorbell value */
#define PDK_NVME_AER_INFO_TEMPERATURE 0x01      /* SMART: threshold crossed */
#define PDK_NVME_AER_CDW0(type, info, lid) \
	((uint32_t)(type) | ((uint32_t)(info) << 8) | ((uint32_t)(lid) << 16))

/* 5.21.1.11 Asynchronous event configuration: SMART warnings (bits 7:0) */
#define PDK_NVME_AEC_SMART_TEMPERATURE (1u << 1)
/* 5.14.1.2 SMART critical warning bits */
#define PDK_NVME_SMART_WARN_TEMPERATURE (1u << 1)
/* 5.21.1.10 Write Atomicity Normal */
#define PDK_NVME_FEAT_WRITE_ATOMICITY 0x0a
/* 5.21 Get Features select (CDW10 bits 10:8) */
#define PDK_NVME_FEAT_SEL_CURRENT 0
#define PDK_NVME_FEAT_SEL_DEFAULT 1
#define PDK_NVME_FEAT_SEL_SAVED 2
#define PDK_NVME_FEAT_SEL_SUPPORTED 3
#define PDK_NVME_FEAT_CAP_CHANGEABLE (1u << 2)

/* 5.15.2.1 VWC bits 2:1 = 11b: Flush with NSID FFFFFFFFh is supported */
#define PDK_NVME_VWC_FLUSH_BROADCAST (3u << 1)
/* 5.15.2.1 LPA bit 2: extended data for Get Log Page (offset, NUMDU) */
#define PDK_NVME_LPA_EXTENDED (1u << 2)
/* 5.15 Identify CNS 03h: namespace identification descriptor type NGUID */
#define PDK_NVME_NIDT_NGUID 0x2
/* A command for every active namespace */
#define PDK_NVME_NSID_ALL 0xffffffffu

/* 6.9 / 6.15 Read and Write CDW12: FUA (bit 30); NLB (15:0) is 0's based */
#define PDK_NVME_IO_FUA (1u << 30)

/* 5.14.1.3 Firmware slot information (512 bytes) */
struct pdk_nvme_fw_log {
	uint8_t afi;
	uint8_t rsvd1[7];
	char frs[7][8];
	uint8_t rsvd64[448];
};
static_assert(sizeof(struct pdk_nvme_fw_log) == 512, "firmware slot log (5.14.1.3)");

/* Doorbell register of queue `qid` (tail for SQ, head for CQ), 3.1.21/22 */
static inline uint32_t pdk_nvme_sq_doorbell(uint16_t qid, uint32_t dstrd)
{
	return PDK_NVME_REG_DBS + (2u * qid) * (4u << dstrd);
}

static inline uint32_t pdk_nvme_cq_doorbell(uint16_t qid, uint32_t dstrd)
{
	return PDK_NVME_REG_DBS + (2u * qid + 1) * (4u << dstrd);
}

/* 5.3 / 5.4 Create I/O queue flags */
#define PDK_NVME_QUEUE_PHYS_CONTIG (1u << 0)
#define PDK_NVME_CQ_IRQ_ENABLED (1u << 1)

/* 5.1 Abort: CDW10 holds the command id and its submission queue */
#define PDK_NVME_ABORT_CDW10(sqid, cid) (((uint32_t)(cid) << 16) | (uint16_t)(sqid))

/* 5.2 Asynchronous event completion, dword 0 */
#define PDK_NVME_AER_TYPE(dw0) ((dw0) & 0x7u)
#define PDK_NVME_AER_INFO(dw0) (((dw0) >> 8) & 0xffu)
#define PDK_NVME_AER_LOG_PAGE(dw0) (((dw0) >> 16) & 0xffu)

/* 5.14 Get Log Page: CDW10 LID (7:0), RAE (15), NUMDL (31:16); CDW11 NUMDU */
#define PDK_NVME_LOG_CDW10(lid, ndw) \
	((uint32_t)(lid) | ((((uint32_t)(ndw) - 1) & 0xffffu) << 16))
#define PDK_NVME_LOG_CDW11(ndw) ((((uint32_t)(ndw) - 1) >> 16) & 0xffffu)

/* 5.21.1.7 Number of Queues: 0's based counts, requested in CDW11 and
 * granted in completion dword 0 (NSQA 15:0, NCQA 31:16) */
#define PDK_NVME_NUM_QUEUES(nsq, ncq) ((((uint32_t)(ncq) - 1) << 16) | ((uint32_t)(nsq) - 1))

/* 5.15.2.2 FLBAS: format index (3:0), metadata at the end of the LBA (4) */
#define PDK_NVME_FLBAS_INDEX(f) ((f) & 0xfu)
#define PDK_NVME_FLBAS_EXTENDED (1u << 4)

/* 5.15.2.4 Active namespace list: up to 1024 ids, ascending, 0 ends it */
#define PDK_NVME_NS_LIST_MAX 1024

/* 6.16 Write Zeroes / 6.9 Read / 6.15 Write: starting LBA in CDW10-11,
 * 0's based block count in CDW12 (15:0, so at most 65536 blocks); FUA is
 * PDK_NVME_IO_FUA above */
#define PDK_NVME_IO_NLB_MAX 65536u

#ifdef __cplusplus
}
#endif
#endif /* PDK_NVME_SPEC_H */
