// axi_perf_timer: cycle/latency timer readable over AXI4-Lite (32-bit).
//
// Measures kernel latency in PL clock cycles without the PS->PL MMIO round trips
// that a software timer would add: the host starts it (or arms it for trig_start)
// and the kernel's interrupt line stops it.
//
// Register map (also in host/spynq/hw/perf_timer.py; a test checks they agree):
//   0x00 CTRL     W: bit0 ARM   clear count, start at next rising edge of trig_start
//                    bit1 START clear count, start now (at the write's accept edge)
//                    bit2 STOP  stop now (software abort, does not set TRIGGERED)
//                 R: bit0 armed
//   0x04 STATUS   R: bit0 running, bit1 stopped by trig_stop, bit2 armed
//   0x08 COUNT_LO R: count[31:0]; the read latches count[63:32] for COUNT_HI
//   0x0C COUNT_HI R: count[63:32] as latched by the last COUNT_LO read
//   0x10 FREE_LO  R: free-running cycle counter [31:0]; latches [63:32] for FREE_HI
//   0x14 FREE_HI  R: latched free-running counter [63:32]
//   0x18 ID       R: ID_VALUE (magic "PT" in [31:16], version in [15:0])
//
// Counting: if the start happens at clock edge S and trig_stop is first seen high
// (after being low) at edge T, COUNT = T - S. While running, every edge adds one.
// trig_start/trig_stop must be synchronous to s_axi_aclk (they are: the kernels
// share pl_clk0); any bit of trig_stop rising stops the count (OR of kernel IRQs).
`timescale 1ns / 1ps
`default_nettype none

module axi_perf_timer #(
    parameter integer STOP_W = 1  // width of trig_stop (one bit per kernel interrupt)
) (
    (* X_INTERFACE_INFO = "xilinx.com:signal:clock:1.0 s_axi_aclk CLK" *)
    (* X_INTERFACE_PARAMETER = "ASSOCIATED_BUSIF s_axi, ASSOCIATED_RESET s_axi_aresetn" *)
    input  wire              s_axi_aclk,
    (* X_INTERFACE_INFO = "xilinx.com:signal:reset:1.0 s_axi_aresetn RST" *)
    (* X_INTERFACE_PARAMETER = "POLARITY ACTIVE_LOW" *)
    input  wire              s_axi_aresetn,
    input  wire [4:0]        s_axi_awaddr,
    input  wire              s_axi_awvalid,
    output wire              s_axi_awready,
    input  wire [31:0]       s_axi_wdata,
    input  wire [3:0]        s_axi_wstrb,
    input  wire              s_axi_wvalid,
    output wire              s_axi_wready,
    output wire [1:0]        s_axi_bresp,
    output reg               s_axi_bvalid,
    input  wire              s_axi_bready,
    input  wire [4:0]        s_axi_araddr,
    input  wire              s_axi_arvalid,
    output wire              s_axi_arready,
    output reg  [31:0]       s_axi_rdata,
    output wire [1:0]        s_axi_rresp,
    output reg               s_axi_rvalid,
    input  wire              s_axi_rready,
    input  wire              trig_start,
    input  wire [STOP_W-1:0] trig_stop
);
    // Register offsets and bits: the single Verilog copy, checked against Python.
    localparam [4:0] ADDR_CTRL     = 5'h00;
    localparam [4:0] ADDR_STATUS   = 5'h04;
    localparam [4:0] ADDR_COUNT_LO = 5'h08;
    localparam [4:0] ADDR_COUNT_HI = 5'h0C;
    localparam [4:0] ADDR_FREE_LO  = 5'h10;
    localparam [4:0] ADDR_FREE_HI  = 5'h14;
    localparam [4:0] ADDR_ID       = 5'h18;
    localparam integer BIT_CTRL_ARM       = 0;
    localparam integer BIT_CTRL_START     = 1;
    localparam integer BIT_CTRL_STOP      = 2;
    localparam integer BIT_STATUS_RUNNING = 0;
    localparam integer BIT_STATUS_TRIGGERED = 1;
    localparam integer BIT_STATUS_ARMED   = 2;
    localparam [31:0] ID_VALUE = 32'h50540001;

    // ---- AXI4-Lite handshakes: one transaction in flight per direction.
    // Ready depends on valid (allowed by AXI); accepting AW and W together keeps
    // the slave free of address/data buffering.
    wire wr_fire = s_axi_awvalid && s_axi_wvalid && !s_axi_bvalid;
    wire rd_fire = s_axi_arvalid && !s_axi_rvalid;
    assign s_axi_awready = wr_fire;
    assign s_axi_wready  = wr_fire;
    assign s_axi_arready = rd_fire;
    assign s_axi_bresp   = 2'b00;
    assign s_axi_rresp   = 2'b00;

    wire ctrl_wr = wr_fire && (s_axi_awaddr[4:2] == ADDR_CTRL[4:2]) && s_axi_wstrb[0];
    wire cmd_arm   = ctrl_wr && s_axi_wdata[BIT_CTRL_ARM];
    wire cmd_start = ctrl_wr && s_axi_wdata[BIT_CTRL_START];
    wire cmd_stop  = ctrl_wr && s_axi_wdata[BIT_CTRL_STOP];

    // ---- Trigger edge detection (previous samples held in registers).
    reg              start_q;
    reg              stop_q;
    wire             stop_any  = |trig_stop;
    wire             start_rise = trig_start && !start_q;
    wire             stop_rise  = stop_any && !stop_q;

    reg        running;
    reg        armed;
    reg        triggered;
    reg [63:0] count;
    reg [63:0] free_cnt;
    reg [31:0] count_hi_latch;
    reg [31:0] free_hi_latch;

    always @(posedge s_axi_aclk) begin
        if (!s_axi_aresetn) begin
            start_q   <= 1'b0;
            stop_q    <= 1'b0;
            running   <= 1'b0;
            armed     <= 1'b0;
            triggered <= 1'b0;
            count     <= 64'd0;
            free_cnt  <= 64'd0;
        end else begin
            start_q  <= trig_start;
            stop_q   <= stop_any;
            free_cnt <= free_cnt + 64'd1;
            if (cmd_start || cmd_arm) begin
                // A new measurement: START wins over ARM if both bits are written.
                count     <= 64'd0;
                triggered <= 1'b0;
                running   <= cmd_start;
                armed     <= !cmd_start;
            end else if (cmd_stop) begin
                running <= 1'b0;
                armed   <= 1'b0;
            end else if (running) begin
                count <= count + 64'd1;
                if (stop_rise) begin
                    running   <= 1'b0;
                    triggered <= 1'b1;
                end
            end else if (armed && start_rise) begin
                armed   <= 1'b0;
                running <= 1'b1;
            end
        end
    end

    // ---- Write response.
    always @(posedge s_axi_aclk) begin
        if (!s_axi_aresetn)
            s_axi_bvalid <= 1'b0;
        else if (wr_fire)
            s_axi_bvalid <= 1'b1;
        else if (s_axi_bready)
            s_axi_bvalid <= 1'b0;
    end

    // Read-back words built from the bit localparams so they cannot drift apart.
    reg [31:0] ctrl_word;
    reg [31:0] status_word;
    always @(*) begin
        ctrl_word = 32'd0;
        ctrl_word[BIT_CTRL_ARM] = armed;
        status_word = 32'd0;
        status_word[BIT_STATUS_RUNNING]   = running;
        status_word[BIT_STATUS_TRIGGERED] = triggered;
        status_word[BIT_STATUS_ARMED]     = armed;
    end

    // ---- Read data; reading a LO word latches its HI word in the same cycle so
    // the 64-bit value is consistent even though it is read as two 32-bit words.
    always @(posedge s_axi_aclk) begin
        if (!s_axi_aresetn) begin
            s_axi_rvalid   <= 1'b0;
            s_axi_rdata    <= 32'd0;
            count_hi_latch <= 32'd0;
            free_hi_latch  <= 32'd0;
        end else if (rd_fire) begin
            s_axi_rvalid <= 1'b1;
            case (s_axi_araddr[4:2])
                ADDR_CTRL[4:2]:     s_axi_rdata <= ctrl_word;
                ADDR_STATUS[4:2]:   s_axi_rdata <= status_word;
                ADDR_COUNT_LO[4:2]: begin
                    s_axi_rdata    <= count[31:0];
                    count_hi_latch <= count[63:32];
                end
                ADDR_COUNT_HI[4:2]: s_axi_rdata <= count_hi_latch;
                ADDR_FREE_LO[4:2]:  begin
                    s_axi_rdata   <= free_cnt[31:0];
                    free_hi_latch <= free_cnt[63:32];
                end
                ADDR_FREE_HI[4:2]:  s_axi_rdata <= free_hi_latch;
                ADDR_ID[4:2]:       s_axi_rdata <= ID_VALUE;
                default:            s_axi_rdata <= 32'd0;
            endcase
        end else if (s_axi_rready) begin
            s_axi_rvalid <= 1'b0;
        end
    end

    // Byte lanes 1..3 and the address's byte offset carry nothing for this map.
    wire _unused_ok = &{1'b0, s_axi_wstrb[3:1], s_axi_awaddr[1:0], s_axi_araddr[1:0],
                        s_axi_wdata[31:3], 1'b0};

endmodule

`default_nettype wire
